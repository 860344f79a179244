"""Click options shared by every command that talks to a gateway, and how their errors end.

`@gateway_options` adds `--gateway URL|local` and `--auth-file PATH` and hands the command one
`GatewayChoice`; `gateway_errors()` turns any `GatewayError` or `OdplanError` into its message,
its hint and exit code 1; `fail()` is the one way a command ends on an error. Light on
purpose: nothing heavy is imported until a command runs.

The folder link: `odplan apply` remembers the gateway it applied to in
`.opendeploy/gateway.json` (the gateway's name or URL, never a credential), and every later
command run in that folder uses it unless `--gateway` or `OD_GATEWAY` says otherwise. Every
command that talks to a gateway names it, and where that choice came from, on its first line.
"""

from __future__ import annotations

import dataclasses
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
    from contextlib import AbstractAsyncContextManager

    from opendeploy_plan.auditlog import AuditLog
    from opendeploy_plan.gateway import (
        Consent,
        GatewayClient,
        GatewaySettings,
        LocalEndpoint,
        RetryNotice,
    )

F = TypeVar("F", bound=Callable[..., Any])


def _in_process_gateway(
    data_dir: Path, overrides: Mapping[str, Any] | None
) -> AbstractAsyncContextManager[LocalEndpoint]:
    """`engine.local_gateway.in_process_gateway`, imported only when `--gateway local` starts
    one: the emulator and the WebSocket stack stay off the start of every other command."""
    from opendeploy_plan.engine.local_gateway import in_process_gateway

    return in_process_gateway(data_dir, overrides)


EXIT_FAILURE = 1


@dataclass(frozen=True)
class GatewayChoice:
    """What the user selected on the command line; None means "not given, resolve further".

    Resolution order: `--gateway` > `OD_GATEWAY` > the folder's link (`engine.link`) > the
    auth file's `gateway` > the platform default (the last two in `gateway.resolve_settings`).
    """

    gateway: str | None = None
    auth_file: Path | None = None
    # The folder whose link counts (the manifest's folder; None: the working directory).
    folder: Path | None = None

    def linked(self) -> str | None:
        """The gateway this folder was last applied to, or None."""
        from opendeploy_plan.engine.link import read_link

        return read_link(self.folder if self.folder is not None else Path.cwd())

    def resolved_gateway(self, env: Mapping[str, str]) -> str | None:
        """`--gateway`, else `OD_GATEWAY`, else the folder's link, else None."""
        return self.gateway or env.get("OD_GATEWAY") or self.linked() or None

    def source(self, env: Mapping[str, str]) -> str:
        """Where the gateway choice came from, as the first line says it."""
        if self.gateway:
            return "--gateway"
        if env.get("OD_GATEWAY"):
            return "OD_GATEWAY"
        if self.linked():
            return "remembered in .opendeploy/gateway.json; --gateway to change"
        return "default"

    def is_local(self, env: Mapping[str, str]) -> bool:
        """True for `--gateway local` (or `OD_GATEWAY=local`, or a folder linked to it)."""
        return (self.resolved_gateway(env) or "").strip() == "local"

    def in_folder(self, folder: Path) -> GatewayChoice:
        """The same choice, reading the link of `folder` (the manifest's folder)."""
        return dataclasses.replace(self, folder=folder)

    def settings(
        self, env: Mapping[str, str] | None = None, *, announce: bool = True
    ) -> GatewaySettings:
        """Resolve gateway and credential (raises `GatewayMismatch`, `AuthFileUnsupported`, …);
        with `announce`, name the gateway on stderr: the first line of every command that
        talks to one."""
        from opendeploy_plan.gateway import resolve_settings

        env = os.environ if env is None else env
        settings = resolve_settings(
            self.resolved_gateway(env),
            env=env,
            auth_file=self.auth_file,
            warn=warn,
            local_gateway=_in_process_gateway,
        )
        if announce:
            name = "local" if settings.local else settings.url
            click.echo(styled(f"Gateway: {name} ({self.source(env)})", dim=True), err=True)
        return settings

    def remember(self, settings: GatewaySettings) -> None:
        """Link this folder to the gateway just applied to (`local` or its URL)."""
        from opendeploy_plan.engine.link import write_link

        write_link(
            self.folder if self.folder is not None else Path.cwd(),
            "local" if settings.local else settings.url,
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
            "Default: $OD_GATEWAY, else the gateway this folder last applied to "
            "(.opendeploy/gateway.json), else the auth file's gateway, else the platform."
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


def styled(text: str, **style: Any) -> str:
    """`text` styled for stderr: only on a terminal, and never with `NO_COLOR` set."""
    if os.environ.get("NO_COLOR"):
        return text
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return click.style(text, **style) if tty else text


def stdin_is_interactive() -> bool:
    """True when a human can answer a prompt (stdin is a terminal)."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def consent_from_flags(
    yes: bool, env: Mapping[str, str] | None = None, *, explain: str = ""
) -> Consent:
    """The consent gate for creating a credential: `--yes`, the env var, or a TTY prompt
    (which first prints `explain`: what the user is asked to agree to)."""
    from opendeploy_plan.gateway import Consent

    prompt: Callable[[str], bool] | None = None
    if stdin_is_interactive():

        def prompt(question: str) -> bool:
            if explain:
                click.echo(explain, err=True)
            return click.confirm(question, default=False, err=True)

    return Consent(assume_yes=yes, env=env, prompt=prompt)


def guest_explanation(auth_path: Path) -> str:
    """What a guest credential is, said before asking to create one."""
    from opendeploy_plan import platform

    hours = platform.GUEST_IDLE_GC_SECONDS // 3600
    memory = platform.GUEST_MEMORY_LIMIT_BYTES // 2**30
    cpu = platform.GUEST_CPU_LIMIT_MILLICORES / 1000
    return (
        "\nNo credential is saved for this gateway. odplan can create a guest credential: it\n"
        "deploys without an account, within the guest caps (one project, "
        f"{platform.GUEST_SERVICES_PER_PROJECT} service,\n"
        f"{platform.GUEST_MAX_REPLICAS} replica, {cpu:g} CPU, {memory} GiB memory). "
        f"A project not bound to an account within {hours} hours\n"
        "is collected; apply prints the link that binds it. The token is saved to\n"
        f"{auth_path} (mode 0600). To use an account instead: `odplan login --token …`."
    )


def connected(
    settings: GatewaySettings, **options: Any
) -> AbstractAsyncContextManager[GatewayClient]:
    """`gateway.connect` as every command calls it: with this process's environment, and each
    retry said on stderr as it happens (`options` are connect's other keywords)."""
    from opendeploy_plan.gateway import connect

    return connect(settings, env=os.environ, on_retry=say_retry, **options)


def say_retry(notice: RetryNotice) -> None:
    """A retry, said as it happens (`… retrying 2/4 in 1.5 s`)."""
    click.echo(styled(f"  {notice}", fg="yellow"), err=True)


def unreachable_hint(exc: BaseException) -> str:
    """The hint of a gateway that did not answer: name `--gateway local`."""
    base = getattr(exc, "hint", "") or ""
    return (
        "Nothing answers at that address. For the embedded local gateway pass "
        "`--gateway local` (apply remembers it for this folder); otherwise check the URL "
        "(--gateway, OD_GATEWAY, .opendeploy/gateway.json). " + base
    ).strip()


def warn(message: str) -> None:
    """A warning on stderr (never on stdout, which may be piped as JSON)."""
    click.echo(styled(f"warning: {message}", fg="yellow"), err=True)


def fail(message: str, hint: str = "", *, code: int = EXIT_FAILURE) -> NoReturn:
    """Print an error and its hint on stderr and exit with `code`."""
    click.echo(styled(f"error: {message}", fg="red"), err=True)
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
        from opendeploy_plan.gateway import GatewayError, GatewayUnreachable

        if isinstance(exc, GatewayUnreachable):
            fail(exc.message, unreachable_hint(exc))
        if isinstance(exc, OdplanError):
            fail(exc.user_message(), exc.hint)
        if isinstance(exc, GatewayError):
            fail(exc.message, exc.hint)
        raise
