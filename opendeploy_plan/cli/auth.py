"""`odplan login`, `odplan whoami`, `odplan logout`: the user's credential, like the skill's.

Creating a guest credential needs consent; an existing credential is never overwritten without
`--force` and never deleted on a 401. Keys are shown redacted (`od_a***`), never whole.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from opendeploy_plan.cli.options import (
    GatewayChoice,
    consent_from_flags,
    fail,
    gateway_errors,
    gateway_options,
    stdin_is_interactive,
    warn,
    yes_option,
)

if TYPE_CHECKING:
    from opendeploy_plan.auditlog import AuditLog
    from opendeploy_plan.gateway import GatewaySettings


def _auth_path(choice: GatewayChoice, env: Mapping[str, str]) -> Path:
    from opendeploy_plan.gateway import auth_file_path, local_auth_file_path

    if choice.is_local(env):
        return local_auth_file_path(env)
    return choice.auth_file if choice.auth_file is not None else auth_file_path(env)


def _login_settings(choice: GatewayChoice, env: Mapping[str, str]) -> GatewaySettings:
    """Where a new credential goes and which gateway issues it (no saved token is offered)."""
    from opendeploy_plan import platform
    from opendeploy_plan.gateway import (
        LOCAL_BASE_URL,
        GatewaySettings,
        migrate_legacy_auth,
        normalize_gateway,
        read_auth_file,
    )

    path = _auth_path(choice, env)
    if choice.is_local(env):
        from opendeploy_plan.engine.local_gateway import in_process_gateway

        return GatewaySettings(LOCAL_BASE_URL, True, path, None, in_process_gateway)
    if choice.auth_file is None:
        migrate_legacy_auth(env, Path.cwd(), warn=warn)
    selected = choice.resolved_gateway(env)
    if selected is None:
        saved = read_auth_file(path, warn=warn)
        selected = (saved.gateway if saved else None) or platform.DEFAULT_GATEWAY
    return GatewaySettings(normalize_gateway(selected), False, path, None)


@click.command()
@click.option("--guest", is_flag=True, help="Create a guest credential (asks for consent first).")
@click.option(
    "--token",
    metavar="od_k…|-",
    default=None,
    help="Save this dashboard token after checking it with the gateway ('-' reads stdin).",
)
@click.option(
    "--name",
    default="opendeploy local deploy",
    show_default=True,
    help="Label of a new guest credential (no hostname is sent).",
)
@click.option("--force", is_flag=True, help="Replace a credential that is already saved.")
@yes_option
@gateway_options
def login(
    guest: bool,
    token: str | None,
    name: str,
    force: bool,
    yes: bool,
    gateway_choice: GatewayChoice,
) -> None:
    """Save a credential for the gateway: a new guest credential, or your dashboard token."""
    env = os.environ
    if guest and token is not None:
        raise click.UsageError("choose one of --guest and --token")
    if not guest and token is None:
        if not stdin_is_interactive():
            raise click.UsageError("pass --guest or --token (use '--token -' to read stdin)")
        token = click.prompt("Dashboard token (od_k…)", hide_input=True, err=True)
    with gateway_errors():
        settings = _login_settings(gateway_choice, env)
        _refuse_overwrite(settings, force)
        if env.get("OD_API_KEY") and not settings.local:
            warn("OD_API_KEY is set: it overrides the saved credential until you unset it")
        audit = gateway_choice.audit_log(env)
        if guest:
            _login_guest(settings, name, yes, env, audit)
        else:
            _login_token(settings, _read_token(token or ""), audit)


def _refuse_overwrite(settings: GatewaySettings, force: bool) -> None:
    from opendeploy_plan.gateway import CredentialError, CredentialExists, read_saved_credential

    path = settings.auth_path
    try:
        existing = read_saved_credential(path, warn=warn)
    except CredentialError as error:
        if force:
            return
        raise CredentialExists(
            f"{path} exists but cannot be read ({error.message}); not replacing it"
        ) from None
    if existing is not None and not force:
        # A local credential is saved under a placeholder URL that nothing serves.
        shown = "the local gateway" if settings.local else existing.gateway
        where = f" for {shown}" if existing.gateway else ""
        raise CredentialExists(
            f"a credential ({existing.redacted}{where}) is already saved in {path}"
        )


def _read_token(token: str) -> str:
    from opendeploy_plan import platform

    if token == "-":
        token = sys.stdin.readline()
    token = token.strip()
    if platform.token_kind(token) is None:
        fail(
            "that is not an opendeploy token",
            "Tokens look like od_k… (dashboard) or od_a… (local deploy credential), "
            f"od_ + 1 kind letter + {platform.TOKEN_BODY_CHARS} letters and digits.",
        )
    return token


def _login_guest(
    settings: GatewaySettings, name: str, yes: bool, env: Mapping[str, str], audit: AuditLog
) -> None:
    from opendeploy_plan.gateway import (
        CONSENT_QUESTION,
        ConsentRequired,
        connect,
        consent_body,
        register_guest_credential,
    )

    consent = consent_from_flags(yes, env)
    if consent.prompt is not None and not yes and env.get("OPDEPLOY_ALLOW_CREDENTIAL_INIT") != "1":
        click.echo(consent_body(_register_at(settings, env), settings.auth_path), err=True)
    if not consent.granted(CONSENT_QUESTION):
        audit.error("auth.register", reason="consent_missing")
        raise ConsentRequired("refused to create a credential without explicit consent")

    async def register() -> Any:
        async with connect(settings, anonymous=True, env=env, warn=warn) as client:
            return await register_guest_credential(
                client, settings, name=name, audit=audit, warn=warn
            )

    credential = asyncio.run(register())
    click.echo(f"Saved a guest credential ({credential.redacted}) to {settings.auth_path}.")
    click.echo(f"Gateway: {_gateway_shown(settings, env)}")
    if credential.bind_url:
        click.echo(f"Bind URL: {_shown(credential.bind_url, settings.local, env)}")
        click.echo("Open it and sign in to link this credential to your account.")


def _login_token(settings: GatewaySettings, token: str, audit: AuditLog) -> None:
    from opendeploy_plan.gateway import (
        Credential,
        Unauthorized,
        connect,
        redact,
        write_auth_file,
    )

    credential = Credential(api_key=token, gateway=settings.url, source="file")

    async def validate() -> None:
        async with connect(
            settings, credential=credential, mint_local_token=False, warn=warn
        ) as client:
            await client.regions()

    try:
        asyncio.run(validate())
    except Unauthorized as error:
        audit.error("auth.login", reason="rejected", gateway=settings.url)
        fail(
            f"{_gateway_name(settings)} rejected this token; nothing was saved",
            f"Check that the token belongs to this gateway ({error.reason}).",
        )
    write_auth_file(settings.auth_path, api_key=token, gateway=settings.url)
    audit.info("auth.login", status="ok", gateway=settings.url, kind=credential.kind)
    click.echo(f"Saved {redact(token)} for {_gateway_name(settings)} to {settings.auth_path}.")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of text.")
@gateway_options
def whoami(as_json: bool, gateway_choice: GatewayChoice) -> None:
    """Show the credential in use: its kind, gateway, redacted key and binding URL."""
    from opendeploy_plan.cli.views.whoami import whoami_view
    from opendeploy_plan.gateway import (
        CredentialStatus,
        GatewayError,
        NoCredential,
        connect,
        probe_credential,
        resolve_settings,
    )

    env = os.environ
    with gateway_errors():
        settings = gateway_choice.settings(env)
        if settings.credential is None:  # locally too: a fresh local gateway has none yet
            raise NoCredential(
                f"no credential for {_gateway_name(settings)} (looked in {settings.auth_path})"
            )
        audit = gateway_choice.audit_log(env)

        async def probe() -> tuple[Any, CredentialStatus | None, GatewayError | None]:
            async with connect(settings, env=env, warn=warn) as client:
                # Locally, connect() drops a credential the local gateway no longer knows.
                credential = (
                    resolve_settings("local", env=env).credential
                    if settings.local
                    else settings.credential
                )
                if credential is None:
                    raise NoCredential(f"no credential for {_gateway_name(settings)}")
                try:
                    return credential, await probe_credential(client, credential), None
                except GatewayError as error:
                    return credential, None, error

        credential, status, problem = asyncio.run(probe())

    state = status.state if status else "unknown"
    source = {"env": "OD_API_KEY", "file": str(credential.path), "local": str(credential.path)}
    info: dict[str, Any] = {
        "gateway": settings.url,
        "local": settings.local,
        "address": _gateway_shown(settings, env),
        "source": source[credential.source],
        "key": credential.redacted,
        "kind": credential.kind,
        "state": state,
        "guest_id": credential.guest_id,
        "bind_url": _shown(credential.bind_url, settings.local, env)
        if state == "guest pending"
        else None,
        "email": status.profile.email if status and status.profile else None,
        "plan": status.profile.plan if status and status.profile else None,
    }
    audit.info(
        "auth.resolve",
        mode="reuse",
        is_bound=1 if state in ("dashboard", "guest bound") else 0,
        guest_id=credential.guest_id or "none",
        gateway=settings.url,
        state=state,
    )
    whoami_view(as_json=as_json).credential(info)
    if problem is not None:
        fail(f"could not check the credential: {problem.message}", problem.hint)
    if state == "rejected":
        fail(
            "the gateway rejected this credential (it was not deleted)",
            "Rotate it in the dashboard and run `odplan login --token … --force`, or run "
            "`odplan logout` and `odplan login --guest` to start fresh.",
        )


@click.command()
@yes_option
@gateway_options
def logout(yes: bool, gateway_choice: GatewayChoice) -> None:
    """Forget the saved credential (the token itself stays valid; revoke it in the dashboard)."""
    from opendeploy_plan.gateway import CredentialError, delete_auth_file, read_saved_credential

    env = os.environ
    path = _auth_path(gateway_choice, env)
    if env.get("OD_API_KEY") and not gateway_choice.is_local(env):
        warn("OD_API_KEY is set in the environment; logout cannot remove it")
    if not path.exists():
        click.echo(f"No saved credential in {path}.")
        return
    try:
        saved = read_saved_credential(path, warn=warn)
        label = saved.redacted if saved else "an empty credential"
    except CredentialError:
        label = "an unreadable credential file"
    if not yes:
        if not stdin_is_interactive():
            fail(f"not removing {path} without confirmation", "Pass --yes to confirm.")
        if not click.confirm(f"Remove {label} from {path}?", default=False, err=True):
            click.echo("Nothing removed.")
            return
    with gateway_errors():
        delete_auth_file(path)
    gateway_choice.audit_log(env).info("auth.logout", status="ok")
    click.echo(f"Removed {label} from {path}.")
    click.echo("The token still works on the gateway until you revoke it in the dashboard.")


def _gateway_name(settings: GatewaySettings) -> str:
    """The gateway in a sentence: a local credential is saved under a placeholder URL that
    nothing serves, so it is never shown."""
    return "the local gateway" if settings.local else f"the gateway at {settings.url}"


def _gateway_shown(settings: GatewaySettings, env: Mapping[str, str]) -> str:
    """The gateway as a person can reach it: a local one by where it really answers."""
    if not settings.local:
        return settings.url
    from opendeploy_plan.engine.local_gateway import local_address

    return local_address(env)


def _register_at(settings: GatewaySettings, env: Mapping[str, str]) -> str:
    """The gateway the consent text names: a local one by where it really answers (the
    running platform's API, or the in-process gateway), never the placeholder it is saved
    under."""
    if not settings.local:
        return settings.url
    from opendeploy_plan.engine.local_platform import running_platform

    record = running_platform(env)
    return record.api_url if record is not None else "the in-process local gateway's /api"


def _shown(link: str | None, local: bool, env: Mapping[str, str]) -> str | None:
    """A local gateway's link as it answers on this machine (or marked as simulated)."""
    if not link or not local:
        return link
    from opendeploy_plan.engine.local_gateway import local_page_link

    return local_page_link(link, env)
