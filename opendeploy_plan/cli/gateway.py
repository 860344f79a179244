"""`odplan gateway`: the local opendeploy platform. `serve` runs it in the foreground until
Ctrl-C; `start` runs the same in the background and `stop` stops it; `status` says whether one
runs; `account` makes `--gateway local` act as a dashboard account instead of a guest.

Every way of running it shares one state folder, `~/.opendeploy/local/` (docs/local.md).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

import click

from opendeploy_plan.gateway import is_loopback

DEFAULT_DB = "~/.opendeploy/local/gateway.sqlite3"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def gateway() -> None:
    """The embedded local opendeploy gateway, for offline use and tests."""


@gateway.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=8787,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to bind (0 picks a free one).",
)
@click.option(
    "--db",
    "db_path",
    default=DEFAULT_DB,
    show_default=True,
    help="SQLite file for the gateway's state (':memory:' for a throwaway one).",
)
@click.option(
    "--latency-ms",
    default=0,
    type=click.IntRange(0, 60_000),
    help="Latency added to every API request.",
)
@click.option(
    "--build-seconds",
    default=8.0,
    type=click.FloatRange(0, 3600),
    help="How long a simulated build takes.",
)
@click.option(
    "--deploy-seconds",
    default=4.0,
    type=click.FloatRange(0, 3600),
    help="How long a simulated rollout (the deploying phase) takes.",
)
@click.option(
    "--fail-rate",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Fraction of API requests answered with a 503 naming the downstream service.",
)
@click.option("--seed", default=None, type=int, help="Seed for random faults and subdomains.")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="SPEC",
    help="Inject a fault (repeatable), e.g. "
    "'kind=lost_response,method=POST,route=/api/v1/projects/,count=1'; kinds: "
    "latency, error, rate_limit, lost_response.",
)
@click.option(
    "--build-fault",
    "build_faults",
    multiple=True,
    metavar="SPEC",
    help="Force deployment outcomes (repeatable), e.g. "
    "'mode=fail,phase=build,service=web,log=npm ERR! x|exit 1,count=1'.",
)
@click.option(
    "--profile",
    type=click.Choice(["default", "documented"]),
    default="default",
    show_default=True,
    help="'documented' answers only what the opendeploy skill's documents promise "
    "(fields, routes, URL forms); see docs/emulator.md.",
)
@click.option(
    "--runtime",
    type=click.Choice(["auto", "local", "simulate"]),
    default="auto",
    show_default=True,
    help="local: really build and run each deployment on this machine (docs/runtime.md); "
    "simulate: script the phases by the clock; auto: local where the tools exist.",
)
@click.option(
    "--router-port",
    default=8788,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port serving every locally run service as http://<subdomain>.localhost:PORT.",
)
@click.option(
    "--runtime-dir",
    default=None,
    help="Folder for builds and database data (default: runtime/ next to --db; "
    "/var/lib/opendeploy/<hash of --db> as root; a temporary one for :memory:).",
)
@click.option(
    "--admin/--no-admin",
    "admin",
    default=None,
    help="Serve the /_emulator/ admin API (default: only when bound to loopback).",
)
@click.option("--background", is_flag=True, hidden=True, help="Started by `odplan gateway start`.")
def serve(
    host: str,
    port: int,
    db_path: str,
    latency_ms: int,
    build_seconds: float,
    deploy_seconds: float,
    fail_rate: float,
    seed: int | None,
    faults: tuple[str, ...],
    build_faults: tuple[str, ...],
    profile: str,
    runtime: str,
    router_port: int,
    runtime_dir: str | None,
    admin: bool | None,
    background: bool,
) -> None:
    """Serve the gateway; print its base URL and a dashboard token; stop with Ctrl-C."""
    from opendeploy_plan.emulator import EmulatorConfig, create_app
    from opendeploy_plan.emulator.faults import fault_from_spec
    from opendeploy_plan.emulator.local_pages import with_local_pages
    from opendeploy_plan.emulator.server import serve_in_thread
    from opendeploy_plan.emulator.state import deployment_fault_from_spec
    from opendeploy_plan.engine.local_platform import (
        LOCAL_RUNTIME_MARK,
        PlatformRecord,
        remove_record,
        serving,
        write_record,
    )

    try:
        rules = [fault_from_spec(text) for text in faults]
        forced = [deployment_fault_from_spec(text) for text in build_faults]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault/--build-fault") from exc

    if db_path != ":memory:":
        try:
            Path(db_path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise click.ClickException(
                f"cannot create the folder for --db {db_path}: {exc}"
            ) from exc
        db_path = str(Path(db_path).expanduser())
        other = serving(Path(db_path).parent)
        if other is not None and other.db_path == db_path and other.pid != os.getpid():
            raise click.ClickException(
                f"another gateway (pid {other.pid}) already serves {db_path} at "
                f"{other.api_url}; stop it first (`odplan gateway stop` for the default state)"
            )
    config = EmulatorConfig(
        db_path=db_path,
        build_seconds=build_seconds,
        deploy_seconds=deploy_seconds,
        latency_ms=latency_ms,
        fail_rate=fail_rate,
        seed=seed,
        profile=profile,
        admin_enabled=is_loopback(host) if admin is None else admin,
        runtime=runtime,
        runtime_dir=str(Path(runtime_dir).expanduser()) if runtime_dir else None,
        router_port=router_port,
    )
    try:
        app = create_app(config)
    except Exception as exc:  # a corrupt or unreadable database file is a user problem
        raise click.ClickException(f"cannot open the gateway database {db_path}: {exc}") from exc
    for rule in rules:
        app.state.faults.add(rule)
    for fault in forced:
        app.state.emulator.add_deployment_fault(fault)
    served = with_local_pages(app)  # the bind and project pages the CLI links to
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Both signals stop cleanly; SIGINT explicitly, since a background job starts with it ignored.
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with serve_in_thread(served, host=host, port=port) as root:
            config.public_url = f"{root}/api"
            emulator = app.state.emulator
            click.echo(f"opendeploy local gateway: {root}/api")
            if not background:  # a background platform's output is a log file: no secret there
                click.echo(f"dashboard token: {emulator.mint_dashboard_token()}")
            click.echo(f"state: {db_path}")
            if profile != "default":
                click.echo(f"profile: {profile}")
            if config.admin_enabled:
                click.echo(f"admin API: {root}/_emulator/")
                if not background:  # the record holds it (0600); the log file must not
                    click.echo(f"admin token: {app.state.admin_token}")
            click.echo(_runtime_line(emulator.runner, runtime))
            if db_path != ":memory:":
                if _is_local(emulator.runner):
                    (Path(db_path).parent / LOCAL_RUNTIME_MARK).touch()
                write_record(
                    Path(db_path).parent,
                    PlatformRecord(
                        pid=os.getpid(),
                        pgid=os.getpgrp(),
                        api_url=f"{root}/api",
                        router_port=getattr(emulator.runner, "router_port", None),
                        runtime="local" if _is_local(emulator.runner) else "simulate",
                        db_path=db_path,
                        started_at=time.time(),
                        admin_token=getattr(app.state, "admin_token", None),
                    ),
                )
            click.echo("Press Ctrl-C to stop.", err=True)
            sys.stdout.flush()
            while not stop.wait(0.5):
                pass
    except RuntimeError as exc:
        raise click.ClickException(f"{exc} (is the port already in use?)") from exc
    finally:
        if db_path != ":memory:":
            remove_record(Path(db_path).parent, os.getpid())
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        close = getattr(app.state.emulator.runner, "close", None)
        if close is not None:
            close()  # stop every app and database this gateway started
    click.echo("gateway stopped", err=True)


def _is_local(runner: object) -> bool:
    from opendeploy_plan.emulator.runtime_bridge import LocalRunner

    return isinstance(runner, LocalRunner)


def _runtime_line(runner: object, asked: str) -> str:
    """`runtime: local` and the router's address, or why deployments are simulated."""
    from opendeploy_plan.emulator.runtime_bridge import LocalRunner, runtime_missing

    if isinstance(runner, LocalRunner):
        return f"runtime: local\nrouter: http://<subdomain>.localhost:{runner.router_port}"
    if asked == "auto":
        return f"runtime: simulate (missing {runtime_missing()})"
    return "runtime: simulate (nothing is built or run)"


@gateway.command()
@click.option(
    "--port", default=8787, show_default=True, type=click.IntRange(0, 65535), help="API port."
)
@click.option(
    "--router-port",
    default=8788,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port serving every app as http://<subdomain>.localhost:PORT.",
)
@click.option(
    "--runtime",
    type=click.Choice(["auto", "local", "simulate"]),
    default="auto",
    show_default=True,
    help="As for `serve`: local builds and runs every deployment on this machine.",
)
@click.option(
    "--runtime-dir",
    default=None,
    help="Folder for builds and database data (default as for `serve`).",
)
def start(port: int, router_port: int, runtime: str, runtime_dir: str | None) -> None:
    """Start the local platform in the background (state in ~/.opendeploy/local/).

    `--gateway local` then talks to it, and its live URLs answer until `odplan gateway stop`.
    """
    from opendeploy_plan.cli.views.platform import show_platform
    from opendeploy_plan.engine.local_platform import PlatformError, start_platform

    args = ["--port", str(port), "--router-port", str(router_port), "--runtime", runtime]
    if runtime_dir:
        args += ["--runtime-dir", str(Path(runtime_dir).expanduser().resolve())]
    try:
        record = start_platform(os.environ, serve_args=[*args, "--background"])
    except PlatformError as error:
        raise click.ClickException(f"{error}\n{error.hint}".rstrip()) from None
    show_platform(record)


@gateway.command()
def stop() -> None:
    """Stop the background local platform, and every app and database it runs."""
    from opendeploy_plan.engine.local_platform import stop_platform

    record = stop_platform(os.environ)
    if record is None:
        click.echo("The local platform is not running.")
        return
    click.echo(f"Stopped the local platform (pid {record.pid}) and the apps it ran.")


@gateway.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def status(as_json: bool) -> None:
    """Say whether a local platform serves ~/.opendeploy/local/, and where."""
    from opendeploy_plan.cli.views.platform import show_platform_status
    from opendeploy_plan.engine.local_platform import running_platform

    show_platform_status(running_platform(os.environ), as_json=as_json)


@gateway.command()
def account() -> None:
    """Make `--gateway local` act as a dashboard account (paid plan), not as a guest.

    Saves a local dashboard token to ~/.opendeploy/local/auth.json, replacing the guest
    credential there (`odplan logout --gateway local` forgets it).
    """
    import asyncio

    from opendeploy_plan.engine.local_gateway import mint_local_account
    from opendeploy_plan.gateway import GatewayError

    try:
        path = asyncio.run(mint_local_account(os.environ))
    except GatewayError as error:
        raise click.ClickException(f"{error.message}\n{error.hint}".rstrip()) from None
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Saved a local account token to {path}: --gateway local now acts as an account.")
