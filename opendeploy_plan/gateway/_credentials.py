"""The user's credential: `~/.opendeploy/auth.json` exactly as the skill reads and writes it.

Resolution (references/auth.md): `OPDEPLOY_AUTH_FILE` or `~/.opendeploy/auth.json`; the legacy
`./.opendeploy/auth.json` is migrated when the home file is absent; `OD_API_KEY` overrides the
file and is never written. Files are 0600 in a 0700 directory, written atomically.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from opendeploy_plan import platform
from opendeploy_plan.fsutil import ensure_private_dir, write_atomic
from opendeploy_plan.gateway._errors import GatewayError
from opendeploy_plan.gateway._local import LocalGateway
from opendeploy_plan.textsafe import safe_text

AUTH_FILE_VERSION = 1
LOCAL = "local"
# The base URL the in-process local gateway is reached at; nothing listens there.
LOCAL_BASE_URL = "http://odplan.local/api"

Warn = Callable[[str], None]
CredentialSource = Literal["env", "file", "local"]


class CredentialError(GatewayError):
    """A problem with the saved credential or the gateway configuration (no request made)."""


class AuthFileUnsupported(CredentialError):
    default_hint = (
        "This auth file was written by a newer client. Upgrade odplan, or move the file "
        "aside and run `odplan login`."
    )


class AuthFileInvalid(CredentialError):
    default_hint = "Fix or remove the auth file, then run `odplan login`."


class GatewayMismatch(CredentialError):
    """The saved token belongs to another gateway than the one selected: it is never sent."""


class InvalidGatewayUrl(CredentialError, ValueError):
    default_hint = "Use the gateway's API base URL, e.g. https://dashboard.dev.opendeploy.dev/api."


class EmptyApiKey(CredentialError):
    """`OD_API_KEY` is present in the environment but empty (or only whitespace)."""


class NoCredential(CredentialError):
    default_hint = (
        "Run `odplan login --guest` to create a guest credential, `odplan login --token …` to "
        "save a dashboard token, or set OD_API_KEY."
    )


class ConsentRequired(CredentialError):
    default_hint = (
        "Creating a credential needs your consent: run `odplan login --guest` in a terminal "
        "and answer yes, pass --yes, or set OPDEPLOY_ALLOW_CREDENTIAL_INIT=1 (only where you "
        "have delegated that decision, e.g. your own CI). Or save your own dashboard token with "
        "`odplan login --token …`."
    )


class CredentialExists(CredentialError):
    default_hint = "Pass --force to replace it (the old key cannot be recovered afterwards)."


class RegistrationReplayed(CredentialError):
    """Register answered an idempotent replay without `api_key`: the plaintext is gone."""

    default_hint = (
        "The gateway returned an existing local deploy credential but not its api_key (the "
        "plaintext is only shown once). Restore your previous auth.json, wait 24 h and retry, "
        "or use a dashboard token (`odplan login --token …`)."
    )


class RegistrationIncomplete(CredentialError):
    default_hint = (
        "The gateway's answer lacked guest_id or bind_sig; nothing was saved. Retry later."
    )


@dataclass(frozen=True)
class Credential:
    """A token and the gateway it belongs to. The key and bind_sig never appear in a repr."""

    api_key: str = field(repr=False)
    gateway: str
    source: CredentialSource
    path: Path | None = None
    guest_id: str | None = None
    bind_sig: str | None = field(default=None, repr=False)

    @property
    def kind(self) -> Literal["dashboard", "guest", "unknown"]:
        kind = platform.token_kind(self.api_key)
        if kind == platform.DASHBOARD_TOKEN_KIND:
            return "dashboard"
        if kind == platform.GUEST_TOKEN_KIND:
            return "guest"
        return "unknown"

    @property
    def redacted(self) -> str:
        return redact(self.api_key)

    @property
    def bind_url(self) -> str | None:
        """The account-binding URL, derived locally (auth.md), or None without guest data."""
        if self.guest_id and self.bind_sig:
            return platform.bind_url(self.gateway, self.guest_id, self.bind_sig)
        return None


def redact(api_key: str) -> str:
    """`od_a***`: the prefix and kind byte only (SKILL.md's redaction)."""
    return (api_key[:4] if api_key.startswith("od_") else "") + "***"


# --- paths ----------------------------------------------------------------------------------------


def home_dir(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def opendeploy_dir(env: Mapping[str, str]) -> Path:
    return home_dir(env) / ".opendeploy"


def local_dir(env: Mapping[str, str]) -> Path:
    """`~/.opendeploy/local`: the local gateway's database, token and logs."""
    return opendeploy_dir(env) / "local"


def auth_file_path(env: Mapping[str, str]) -> Path:
    """`OPDEPLOY_AUTH_FILE` or `~/.opendeploy/auth.json`."""
    override = env.get("OPDEPLOY_AUTH_FILE")
    return Path(override).expanduser() if override else opendeploy_dir(env) / "auth.json"


def local_auth_file_path(env: Mapping[str, str]) -> Path:
    return local_dir(env) / "auth.json"


# --- gateway URLs -------------------------------------------------------------------------------


def normalize_gateway(url: str) -> str:
    """The canonical form of a gateway base URL (no trailing slash, lowercase scheme and host).

    Plain http is accepted only for loopback hosts: anywhere else it would expose the token.
    """
    text = url.strip().rstrip("/")
    shown = shown_url(text)
    try:
        parts = urlsplit(text)
        _ = parts.port
    except ValueError:
        raise InvalidGatewayUrl(f"invalid gateway URL {shown}") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        raise InvalidGatewayUrl(f"invalid gateway URL {shown}: expected http(s)://host/api")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidGatewayUrl(
            f"invalid gateway URL {shown}: no credentials, query or fragment allowed"
        )
    if scheme == "http" and not is_loopback(host) and text != LOCAL_BASE_URL:
        raise InvalidGatewayUrl(
            f"refusing plain http to {host}: the token would travel unencrypted",
            hint="Use https://, or http:// only for 127.0.0.1 / localhost.",
        )
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" if parts.port is None else f"[{host}]:{parts.port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def shown_url(text: str) -> str:
    """A URL as a message may quote it: userinfo (`user:pw@`) and the query replaced by
    `***`, control characters escaped, clipped. Works on text `urlsplit` refuses too."""
    shown = re.sub(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?/*)[^/?#]*@", r"\1***@", text)
    shown = re.sub(r"\?[^#]*", "?***", shown, count=1)
    return repr(safe_text(shown, 200))


def is_loopback(host: str) -> bool:
    """True for `localhost`, `*.localhost` and loopback addresses (bracketed IPv6 too)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --- the auth file ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthFile:
    """The decoded contents of an auth file (secrets kept out of the repr)."""

    path: Path
    api_key: str = field(repr=False)
    gateway: str | None = None
    guest_id: str | None = None
    bind_sig: str | None = field(default=None, repr=False)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)


def read_auth_file(path: Path, *, warn: Warn) -> AuthFile | None:
    """The auth file at `path`, or None when it is absent, empty or has no `api_key`.

    Looser permissions are tightened to 0600 with a warning (never deleted). A version other
    than 1 raises `AuthFileUnsupported`; the file is left untouched.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    if info.st_size == 0:
        return None
    mode = stat.S_IMODE(info.st_mode)
    if mode not in (0o600, 0o400):
        try:
            path.chmod(0o600)
            warn(f"{path} had permissions {mode:04o}; tightened to 0600")
        except OSError as exc:
            warn(f"{path} has permissions {mode:04o} and could not be tightened: {exc}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        # The decoder's message may quote part of the file; say where, not what.
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise AuthFileInvalid(f"{path} is not valid JSON{where}") from None
    if not isinstance(raw, dict):
        raise AuthFileInvalid(f"{path} must hold a JSON object")
    version = raw.get("version", AUTH_FILE_VERSION)
    if version != AUTH_FILE_VERSION:
        raise AuthFileUnsupported(
            f"{path} has version {version!r}; odplan understands version {AUTH_FILE_VERSION}"
        )
    api_key = raw.get("api_key")
    if not isinstance(api_key, str) or not api_key.strip():
        return None
    known = {"version", "api_key", "gateway", "guest_id", "agent_id", "bind_sig"}
    return AuthFile(
        path=path,
        api_key=api_key.strip(),
        gateway=_str_field(raw.get("gateway")),
        guest_id=_str_field(raw.get("guest_id")) or _str_field(raw.get("agent_id")),
        bind_sig=_str_field(raw.get("bind_sig")),
        extra={k: v for k, v in raw.items() if k not in known},
    )


def _str_field(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def write_auth_file(
    path: Path,
    *,
    api_key: str,
    gateway: str,
    guest_id: str | None = None,
    bind_sig: str | None = None,
) -> None:
    """Write the skill's auth.json shape atomically: 0700 directory, 0600 file."""
    contents: dict[str, Any] = {
        "version": AUTH_FILE_VERSION,
        "api_key": api_key,
        "gateway": gateway,
    }
    if guest_id:
        contents["guest_id"] = guest_id
    if bind_sig:
        contents["bind_sig"] = bind_sig
    write_private_file(path, json.dumps(contents, indent=2) + "\n")


def write_private_file(path: Path, text: str) -> None:
    """Atomically replace `path` with `text`, readable by the owner only."""
    ensure_private_dir(path.parent)
    write_atomic(path, text)


def delete_auth_file(path: Path) -> bool:
    """Remove the auth file; True when one was removed."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def migrate_legacy_auth(env: Mapping[str, str], cwd: Path, *, warn: Warn) -> Path | None:
    """Move `./.opendeploy/auth.json` home, as the skill does; the new path when it moved.

    Only when OPDEPLOY_AUTH_FILE is unset and the home file is absent; the legacy directory
    is removed only if the move emptied it.
    """
    if env.get("OPDEPLOY_AUTH_FILE"):
        return None
    target = auth_file_path(env)
    legacy = cwd / ".opendeploy" / "auth.json"
    if target.exists() or not legacy.is_file() or legacy.resolve() == target.resolve():
        return None
    ensure_private_dir(target.parent)
    os.replace(legacy, target)
    target.chmod(0o600)
    warn(f"migrated auth {legacy} -> {target}")
    with contextlib.suppress(OSError):
        legacy.parent.rmdir()
    return target


# --- resolution ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewaySettings:
    """Which gateway to talk to and with which credential (None: none saved yet).

    Invariant: a credential from a file is present only when `url` is the gateway it was
    saved for.
    """

    url: str
    local: bool
    auth_path: Path
    credential: Credential | None
    # How to start the in-process gateway for `--gateway local`, injected by the caller (the
    # CLI) so that this package never imports the emulator.
    local_gateway: LocalGateway | None = field(default=None, compare=False, repr=False)

    def with_local_gateway(self, local_gateway: LocalGateway | None) -> GatewaySettings:
        """The same settings with a way to start the local gateway (used when `local`)."""
        return replace(self, local_gateway=local_gateway)

    def with_credential(self, credential: Credential) -> GatewaySettings:
        """The same settings with `credential` (e.g. the one `ensure_credential` created)."""
        return replace(self, credential=credential)


def resolve_settings(
    gateway: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    auth_file: Path | None = None,
    cwd: Path | None = None,
    warn: Warn | None = None,
    local_gateway: LocalGateway | None = None,
) -> GatewaySettings:
    """Resolve the gateway and credential: `--gateway` > OD_GATEWAY > file > default.

    `OD_API_KEY` replaces the auth file entirely (it is not read). A file's token is only
    offered for the gateway recorded with it; otherwise `GatewayMismatch` is raised. With
    `gateway="local"` only `~/.opendeploy/local/auth.json` is consulted.
    """
    env = os.environ if env is None else env
    warn = warn or (lambda _message: None)
    selected = gateway or env.get("OD_GATEWAY") or None
    if selected is not None and selected.strip() == LOCAL:
        path = local_auth_file_path(env)
        saved = read_auth_file(path, warn=warn)
        credential = (
            Credential(
                api_key=saved.api_key,
                gateway=LOCAL_BASE_URL,
                source="local",
                path=path,
                guest_id=saved.guest_id,
                bind_sig=saved.bind_sig,
            )
            if saved
            else None
        )
        return GatewaySettings(LOCAL_BASE_URL, True, path, credential, local_gateway)

    env_key = (env.get("OD_API_KEY") or "").strip()
    path = auth_file if auth_file is not None else auth_file_path(env)
    if "OD_API_KEY" in env and not env_key:
        # CI exports a secret that was never configured as an empty variable: sending no
        # token (or quietly another one from the auth file) would only end in a misleading 401.
        raise EmptyApiKey(
            "OD_API_KEY is set but empty, so there is no API key to send",
            hint="Set OD_API_KEY to your token (check the CI secret is configured), or unset "
            "it to use the saved credential (`odplan login`).",
        )
    if env_key:
        url = normalize_gateway(selected or platform.DEFAULT_GATEWAY)
        return GatewaySettings(url, False, path, Credential(env_key, url, "env"))

    if auth_file is None:
        migrate_legacy_auth(env, cwd or Path.cwd(), warn=warn)
    saved = read_auth_file(path, warn=warn)
    file_gateway = normalize_gateway(saved.gateway or platform.DEFAULT_GATEWAY) if saved else None
    url = (
        normalize_gateway(selected)
        if selected
        else file_gateway or normalize_gateway(platform.DEFAULT_GATEWAY)
    )
    if saved is None:
        return GatewaySettings(url, False, path, None)
    if file_gateway != url:
        raise GatewayMismatch(
            f"the credential in {path} belongs to {file_gateway}, not {url}; "
            "odplan sends a saved token only to the gateway it was saved for",
            hint=(
                f"Set OD_API_KEY to a token for {url}, run `odplan login --gateway {url}` with "
                "OPDEPLOY_AUTH_FILE pointing at another file, or drop --gateway / OD_GATEWAY."
            ),
        )
    return GatewaySettings(
        url,
        False,
        path,
        Credential(
            api_key=saved.api_key,
            gateway=url,
            source="file",
            path=path,
            guest_id=saved.guest_id,
            bind_sig=saved.bind_sig,
        ),
    )
