"""Opening a client for the selected gateway, and the consent-gated credential bootstrap.

`open_client` resolves settings (flag > OD_GATEWAY > auth file > default) and connects;
`--gateway local` talks to an in-process gateway that the caller provides (a `LocalGateway`
in the settings: this package does not import the emulator), with its own files and minted
token under `~/.opendeploy/local/`, never touching the user's real auth file.
"""

from __future__ import annotations

import contextlib
import os
import platform as host_platform
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from opendeploy_plan.auditlog import AuditLog
from opendeploy_plan.fsutil import ensure_private_dir
from opendeploy_plan.gateway._client import GatewayClient
from opendeploy_plan.gateway._credentials import (
    LOCAL_BASE_URL,
    ConsentRequired,
    Credential,
    GatewaySettings,
    InvalidGatewayUrl,
    NoCredential,
    RegistrationIncomplete,
    RegistrationReplayed,
    Warn,
    is_loopback,
    local_auth_file_path,
    local_dir,
    normalize_gateway,
    read_auth_file,
    resolve_settings,
    write_auth_file,
)
from opendeploy_plan.gateway._engine import RequestRecord
from opendeploy_plan.gateway._errors import (
    GatewayError,
    OutcomeUnknown,
    RateLimited,
    Unauthorized,
)
from opendeploy_plan.gateway._local import LocalEndpoint, LocalGateway
from opendeploy_plan.gateway._models import Profile
from opendeploy_plan.gateway._retry import RetryNotice, RetryPolicy

CONSENT_QUESTION = "opendeploy needs a credential to deploy. Create one now?"

# A fresh local gateway is a first deploy: no credential until a guest one is agreed to.
LOCAL_FIRST_DEPLOY_HINT = (
    "`odplan apply --gateway local` offers a guest credential (as the platform's first deploy "
    "does), or create one now with `odplan login --guest --gateway local`; "
    "`odplan gateway account` makes the local gateway treat you as an account instead."
)


def consent_body(gateway: str, auth_path: Path) -> str:
    """What the user approves, after auth.md's verbatim consent text."""
    return (
        f"odplan will call POST {gateway}/v1/client-guests/register (anonymous, IP rate-limited) "
        f"and save the returned token to {auth_path} with mode 0600. The token deploys under "
        "guest-tenant resource caps until you sign in via the binding URL printed after "
        "deploy. After binding, the same token continues to work with account-level deploy "
        "authority."
    )


@dataclass(frozen=True)
class Consent:
    """How consent to create a credential is obtained: `--yes`, the env var, or a prompt.

    `prompt` is given only when a human can answer (stdin is a TTY); without any of the three
    the answer is no.
    """

    assume_yes: bool = False
    env: Mapping[str, str] | None = None
    prompt: Callable[[str], bool] | None = None

    def granted(self, question: str) -> bool:
        env = os.environ if self.env is None else self.env
        if self.assume_yes or env.get("OPDEPLOY_ALLOW_CREDENTIAL_INIT") == "1":
            return True
        return bool(self.prompt and self.prompt(question))


@contextlib.asynccontextmanager
async def connect(
    settings: GatewaySettings,
    *,
    credential: Credential | None = None,
    anonymous: bool = False,
    retry: RetryPolicy | None = None,
    max_in_flight: int = 10,
    on_request: Callable[[RequestRecord], None] | None = None,
    timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
    local_overrides: Mapping[str, Any] | None = None,
    mint_local_token: bool = True,
    env: Mapping[str, str] | None = None,
    warn: Warn | None = None,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> AsyncIterator[GatewayClient]:
    """A client for `settings` (its credential unless `credential` or `anonymous` says else).

    In local mode the settings' `local_gateway` is started (files under `~/.opendeploy/local/`)
    and, unless `mint_local_token` is false, the saved local credential is checked: one the
    local gateway no longer knows is removed, with a warning. Nothing is minted: a fresh local
    gateway is a first deploy (a guest credential behind consent, `ensure_credential`).
    """
    env = os.environ if env is None else env
    warn = warn or (lambda _message: None)
    chosen = None if anonymous else (credential or settings.credential)
    async with contextlib.AsyncExitStack() as stack:
        if settings.local and transport is None:
            if settings.local_gateway is None:
                raise GatewayError(
                    "--gateway local needs the in-process gateway, and this caller gave none",
                    hint="Run `odplan` itself, or pass a URL with --gateway.",
                )
            check = not anonymous and mint_local_token
            missing = NoCredential(
                f"no credential for the local gateway (looked in {settings.auth_path})",
                hint=LOCAL_FIRST_DEPLOY_HINT,
            )
            if check and chosen is None:
                raise missing
            directory = local_dir(env)
            ensure_private_dir(directory)
            endpoint = await stack.enter_async_context(
                settings.local_gateway(directory, local_overrides)
            )
            transport = endpoint.transport
            if check:
                chosen = await _local_credential(endpoint, chosen, env, warn)
                if chosen is None:
                    await stack.aclose()  # raised outside the gateway's own task group
                    raise missing
        client = GatewayClient(
            settings.url,
            chosen.api_key if chosen else None,
            transport=transport,
            timeout=timeout,
            retry=retry,
            max_in_flight=max_in_flight,
            on_request=on_request,
            bind_url=chosen.bind_url if chosen else None,
            on_retry=on_retry,
            deadline=request_deadline(env),
        )
        stack.push_async_callback(client.aclose)
        yield client


def request_deadline(env: Mapping[str, str]) -> float | None:
    """`OPDEPLOY_REQUEST_DEADLINE`: seconds one request may take in total (default 60; an
    upload gets 15 times that). Unset, empty or unreadable means the default."""
    text = (env.get("OPDEPLOY_REQUEST_DEADLINE") or "").strip()
    try:
        seconds = float(text)
    except ValueError:
        return None
    return seconds if 0 < seconds < 86400 else None


@contextlib.asynccontextmanager
async def open_client(
    gateway: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    auth_file: Path | None = None,
    require_credential: bool = True,
    retry: RetryPolicy | None = None,
    max_in_flight: int = 10,
    on_request: Callable[[RequestRecord], None] | None = None,
    timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
    local_overrides: Mapping[str, Any] | None = None,
    warn: Warn | None = None,
    local_gateway: LocalGateway | None = None,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> AsyncIterator[GatewayClient]:
    """Resolve the gateway and credential, then connect. `gateway` is a URL or `"local"`
    (which needs `local_gateway`, the in-process gateway to start).

    Raises `NoCredential` when none is saved (except locally, where one is minted) and
    `require_credential` is true; `GatewayMismatch` when the saved token is for another gateway.
    """
    settings = resolve_settings(
        gateway, env=env, auth_file=auth_file, warn=warn, local_gateway=local_gateway
    )
    if require_credential and settings.credential is None and not settings.local:
        raise NoCredential(f"no credential for {settings.url} (looked in {settings.auth_path})")
    async with connect(
        settings,
        retry=retry,
        max_in_flight=max_in_flight,
        on_request=on_request,
        timeout=timeout,
        transport=transport,
        local_overrides=local_overrides,
        env=env,
        warn=warn,
        on_retry=on_retry,
    ) as client:
        yield client


async def _local_credential(
    endpoint: LocalEndpoint,
    saved: Credential | None,
    env: Mapping[str, str],
    warn: Warn,
) -> Credential | None:
    """The saved local credential if the local gateway still accepts it, else None (a stale
    one is removed: the next apply offers a new guest credential, as a first deploy does)."""
    if saved is None:
        return None
    probe = GatewayClient(
        LOCAL_BASE_URL, saved.api_key, transport=endpoint.transport, retry=_NO_RETRY
    )
    try:
        await probe.regions()
        return saved
    except Unauthorized:
        path = local_auth_file_path(env)
        path.unlink(missing_ok=True)
        warn(
            f"the local gateway no longer knows the credential saved in {path}; removed it "
            "(`odplan apply --gateway local` offers a new guest credential)"
        )
        return None
    finally:
        await probe.aclose()


_NO_RETRY = RetryPolicy(max_retries=0)


# --- the consent-gated credential bootstrap -----------------------------------------------------


def default_source_hint() -> str:
    """`odplan/<OS>`: like the skill's `claude-code/<uname -s>`, no hostname (privacy)."""
    return f"odplan/{host_platform.system() or 'unknown'}"


async def register_guest_credential(
    client: GatewayClient,
    settings: GatewaySettings,
    *,
    name: str = "opendeploy local deploy",
    source_hint: str | None = None,
    audit: AuditLog | None = None,
    warn: Warn | None = None,
) -> Credential:
    """Register a guest credential and save it to `settings.auth_path`; consent is the caller's.

    A 429 is raised as `RateLimited` (never retried); a replay without `api_key` raises
    `RegistrationReplayed`; nothing is written unless the answer is complete. The saved
    gateway is the one the answer echoes when it is safe (https, or http on loopback), else
    the one called (with a warning).
    """
    try:
        registration = await client.register_guest(
            source_hint=source_hint or default_source_hint(), name=name
        )
    except RateLimited as error:
        if audit:
            audit.error("auth.register", reason="rate_limited", retry_after=error.retry_after)
        error.hint = (
            (error.hint + " ") if error.retry_after is not None else ""
        ) + "Do not loop: if you cannot wait, save a dashboard token with `odplan login --token`."
        raise
    except OutcomeUnknown as error:
        if audit:
            audit.error("auth.register", reason="outcome_unknown")
        error.hint = (
            "The gateway may have created the credential, but its answer was lost. Within "
            "24 h a retry returns the same credential without its key: use a dashboard token "
            "(`odplan login --token …`) or wait 24 h."
        )
        raise
    except GatewayError as error:
        if audit:
            audit.error("auth.register", reason=type(error).__name__)
        raise
    if registration.api_key is None or not registration.api_key.get_secret_value():
        if audit:
            audit.error("auth.register", reason="api_key_missing", http_status="replay_or_lost")
        raise RegistrationReplayed(
            "the gateway returned an existing local deploy credential without its api_key"
        )
    bind_sig = registration.bind_sig.get_secret_value() if registration.bind_sig else ""
    if not registration.guest_id or not bind_sig:
        if audit:
            audit.error("auth.register", reason="missing_guest_or_bindsig")
        raise RegistrationIncomplete("the registration answer lacked guest_id or bind_sig")
    api_key = registration.api_key.get_secret_value()
    # auth.md: persist the `gateway` the answer echoes, the base URL to use from now on.
    gateway = _echoed_gateway(registration.gateway, settings, warn=warn, audit=audit)
    write_auth_file(
        settings.auth_path,
        api_key=api_key,
        gateway=gateway,
        guest_id=registration.guest_id,
        bind_sig=bind_sig,
    )
    if audit:
        audit.info("auth.register", status="ok", guest_id=registration.guest_id, gateway=gateway)
    return Credential(
        api_key=api_key,
        gateway=gateway,
        source="local" if settings.local else "file",
        path=settings.auth_path,
        guest_id=registration.guest_id,
        bind_sig=bind_sig,
    )


def _echoed_gateway(
    echoed: str, settings: GatewaySettings, *, warn: Warn | None, audit: AuditLog | None
) -> str:
    """The gateway to save with a new credential: the echoed one if it is a safe URL."""
    if not echoed.strip() or settings.local:
        return settings.url
    try:
        gateway = normalize_gateway(echoed)
    except InvalidGatewayUrl:
        gateway = ""
    if gateway.startswith("https://") or (
        gateway.startswith("http://") and is_loopback(httpx.URL(gateway).host)
    ):
        return gateway
    message = (
        f"the gateway answered with an unsafe base URL {_printable(echoed)!r}; "
        f"saving the credential for {settings.url}, the URL odplan called"
    )
    if warn:
        warn(message)
    if audit:
        audit.warn("auth.register", reason="unsafe_gateway_echo", gateway=settings.url)
    return settings.url


def _printable(text: str) -> str:
    """At most 100 printable characters of a server-sent string, for a message."""
    return "".join(c for c in text if c.isprintable())[:100]


async def ensure_credential(
    settings: GatewaySettings,
    consent: Consent,
    *,
    name: str = "opendeploy local deploy",
    source_hint: str | None = None,
    audit: AuditLog | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    env: Mapping[str, str] | None = None,
    warn: Warn | None = None,
) -> Credential:
    """The credential to use: the resolved one, or a new guest credential behind consent.

    Raises `ConsentRequired` (and writes nothing) when consent is not given. The local
    gateway behaves as the platform's first deploy: a guest credential, behind the same
    consent, saved to `~/.opendeploy/local/auth.json` (`odplan gateway account` saves an
    account token there instead).
    """
    if settings.credential is not None:
        return settings.credential
    if not consent.granted(CONSENT_QUESTION):
        if audit:
            audit.error("auth.register", reason="consent_missing")
        raise ConsentRequired("refused to create a credential without explicit consent")
    async with connect(settings, anonymous=True, transport=transport, env=env) as client:
        return await register_guest_credential(
            client, settings, name=name, source_hint=source_hint, audit=audit, warn=warn
        )


# --- describing a credential (whoami) -----------------------------------------------------------

TokenState = Literal["dashboard", "guest pending", "guest bound", "rejected", "unknown"]


@dataclass(frozen=True)
class CredentialStatus:
    """What the gateway says about a credential: `/v1/regions/` then the `/v1/profile` probe."""

    state: TokenState
    profile: Profile | None = None


async def probe_credential(client: GatewayClient, credential: Credential) -> CredentialStatus:
    """Classify the token: rejected (401 on regions), dashboard, guest bound or guest pending.

    Transport and server errors propagate; a 401 never deletes anything.
    """
    try:
        await client.regions()
    except Unauthorized:
        return CredentialStatus("rejected")
    try:
        profile = await client.profile()
    except Unauthorized:
        if credential.kind == "guest":
            return CredentialStatus("guest pending")
        return CredentialStatus("unknown")
    if credential.kind == "guest":
        return CredentialStatus("guest bound", profile)
    return CredentialStatus("dashboard" if credential.kind == "dashboard" else "unknown", profile)


def read_saved_credential(path: Path, *, warn: Warn) -> Credential | None:
    """The credential saved at `path` (any gateway), for `login`'s overwrite check."""
    saved = read_auth_file(path, warn=warn)
    if saved is None:
        return None
    return Credential(
        api_key=saved.api_key,
        gateway=saved.gateway or "",
        source="file",
        path=path,
        guest_id=saved.guest_id,
        bind_sig=saved.bind_sig,
    )


def audit_failed_requests(audit: AuditLog) -> Callable[[RequestRecord], None]:
    """An `on_request` hook that writes every failed attempt (status >= 400 or no answer) to
    the audit log as `gateway.request`, so retries and faults leave a trail; successes stay
    out to keep the log to one line per operation boundary."""

    def record(attempt: RequestRecord) -> None:
        if attempt.error is None and (attempt.status_code or 0) < 400:
            return
        audit.warn(
            "gateway.request",
            method=attempt.method,
            path=attempt.path,
            attempt=attempt.attempt,
            status=attempt.status_code,
            error=attempt.error,
            elapsed_ms=round(attempt.elapsed * 1000),
        )

    return record
