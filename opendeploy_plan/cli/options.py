"""Click options shared by every command that talks to a gateway, and how their errors end.

`@gateway_options` adds `--gateway URL|local` and `--auth-file PATH` and hands the command one
`GatewayChoice`; `gateway_errors()` turns any `GatewayError` or `OdplanError` into its message,
its hint and exit code 1; `fail()` is the one way a command ends on an error. Light on
purpose: nothing heavy is imported until a command runs.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from opendeploy_plan.auditlog import AuditLog
    from opendeploy_plan.gateway import Consent, GatewaySettings

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILURE = 1


@dataclass(frozen=True)
class GatewayChoice:
    """What the user selected on the command line; None means "not given, resolve further".

    Resolution order (done by `opendeploy_plan.gateway.resolve_settings`): `--gateway` >
    `OD_GATEWAY` > the auth file's `gateway` > the platform default.
    """

    gateway: str | None = None
    auth_file: Path | None = None

    def resolved_gateway(self, env: Mapping[str, str]) -> str | None:
        """`--gateway`, else `OD_GATEWAY`, else None."""
        return self.gateway or env.get("OD_GATEWAY") or None

    def is_local(self, env: Mapping[str, str]) -> bool:
        """True for `--gateway local` (or `OD_GATEWAY=local` without the flag)."""
        return (self.resolved_gateway(env) or "").strip() == "local"

    def settings(self, env: Mapping[str, str] | None = None) -> GatewaySettings:
        """Resolve gateway and credential (raises `GatewayMismatch`, `AuthFileUnsupported`, …)."""
        from opendeploy_plan.engine.local_gateway import in_process_gateway
        from opendeploy_plan.gateway import resolve_settings

        return resolve_settings(
            self.gateway,
            env=env,
            auth_file=self.auth_file,
            warn=warn,
            local_gateway=in_process_gateway,
        )

    def audit_log(self, env: Mapping[str, str] | None = None) -> AuditLog:
        """The audit log for this choice: `~/.opendeploy/local/logs` for the local gateway."""
        from opendeploy_plan.auditlog import AuditLog

        env = os.environ if env is None else env
        return AuditLog.for_env(env, local=self.is_local(env))


def gateway_options(func: F) -> F:
    """Add `--gateway` and `--auth-file`; the command receives `gateway_choice: GatewayChoice`."""

    @click.option(
        "--gateway",
        "gateway",
        metavar="URL|local",
        default=None,
        help=(
            "Gateway API base URL (ending in /api), or 'local' for the embedded local gateway. "
            "Default: $OD_GATEWAY, else the auth file's gateway, else the platform."
        ),
    )
    @click.option(
        "--auth-file",
        "auth_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Credential file to use instead of $OPDEPLOY_AUTH_FILE / ~/.opendeploy/auth.json.",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, gateway: str | None, auth_file: Path | None, **kwargs: Any) -> Any:
        return func(*args, gateway_choice=GatewayChoice(gateway, auth_file), **kwargs)

    return wrapper  # type: ignore[return-value]


def yes_option(func: F) -> F:
    """`--yes/-y`: answer yes to confirmations (creating a credential, deleting one)."""
    return click.option(
        "--yes",
        "-y",
        "yes",
        is_flag=True,
        default=False,
        help="Do not ask for confirmation; assume yes.",
    )(func)


def stdin_is_interactive() -> bool:
    """True when a human can answer a prompt (stdin is a terminal)."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def consent_from_flags(yes: bool, env: Mapping[str, str] | None = None) -> Consent:
    """The consent gate for creating a credential: `--yes`, the env var, or a TTY prompt."""
    from opendeploy_plan.gateway import Consent

    prompt: Callable[[str], bool] | None = None
    if stdin_is_interactive():

        def prompt(question: str) -> bool:
            return click.confirm(question, default=False, err=True)

    return Consent(assume_yes=yes, env=env, prompt=prompt)


def warn(message: str) -> None:
    """A warning on stderr (never on stdout, which may be piped as JSON)."""
    click.secho(f"warning: {message}", fg="yellow", err=True)


def fail(message: str, hint: str = "", *, code: int = EXIT_FAILURE) -> NoReturn:
    """Print an error and its hint on stderr and exit with `code`."""
    click.secho(f"error: {message}", fg="red", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(code)


@contextmanager
def gateway_errors() -> Iterator[None]:
    """Turn a `GatewayError` or any other `OdplanError` (a stale saved plan, an unusable plan
    file) into its message, its hint and a clean exit 1."""
    try:
        yield
    except Exception as exc:
        from opendeploy_plan.errors import OdplanError
        from opendeploy_plan.gateway import GatewayError

        if isinstance(exc, OdplanError):
            fail(exc.user_message(), exc.hint)
        if isinstance(exc, GatewayError):
            fail(exc.message, exc.hint)
        raise
