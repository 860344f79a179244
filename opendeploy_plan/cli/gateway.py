"""`odplan gateway serve`: run the local opendeploy gateway (the emulator) until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from opendeploy_plan.gateway import is_loopback

DEFAULT_DB = "~/.opendeploy/local/gateway.db"


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
) -> None:
    """Serve the gateway; print its base URL and a dashboard token; stop with Ctrl-C."""
    from opendeploy_plan.emulator import EmulatorConfig, create_app
    from opendeploy_plan.emulator.faults import fault_from_spec
    from opendeploy_plan.emulator.server import serve_in_thread
    from opendeploy_plan.emulator.state import deployment_fault_from_spec

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
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Both signals stop cleanly; SIGINT explicitly, since a background job starts with it ignored.
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with serve_in_thread(app, host=host, port=port) as root:
            config.public_url = f"{root}/api"
            token = app.state.emulator.mint_dashboard_token()
            click.echo(f"opendeploy local gateway: {root}/api")
            click.echo(f"dashboard token: {token}")
            click.echo(f"state: {db_path}")
            if profile != "default":
                click.echo(f"profile: {profile}")
            if config.admin_enabled:
                click.echo(f"admin API: {root}/_emulator/")
                click.echo(f"admin token: {app.state.admin_token}")
            click.echo(_runtime_line(app.state.emulator.runner, runtime))
            click.echo("Press Ctrl-C to stop.", err=True)
            sys.stdout.flush()
            while not stop.wait(0.5):
                pass
    except RuntimeError as exc:
        raise click.ClickException(f"{exc} (is the port already in use?)") from exc
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        close = getattr(app.state.emulator.runner, "close", None)
        if close is not None:
            close()  # stop every app and database this gateway started
    click.echo("gateway stopped", err=True)


def _runtime_line(runner: object, asked: str) -> str:
    """`runtime: local` and the router's address, or why deployments are simulated."""
    from opendeploy_plan.emulator.runtime_bridge import LocalRunner, runtime_missing

    if isinstance(runner, LocalRunner):
        return f"runtime: local\nrouter: http://<subdomain>.localhost:{runner.router_port}"
    if asked == "auto":
        return f"runtime: simulate (missing {runtime_missing()})"
    return "runtime: simulate (nothing is built or run)"
