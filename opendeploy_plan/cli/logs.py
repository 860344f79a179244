"""`odplan logs [SERVICE]`: runtime logs, or with --build the latest deployment's logs.

`-f` is `--follow` here, as in tail, docker and kubectl; the manifest is `--file` (long form
only) for this command."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from opendeploy_plan.cli.operate import (
    ProjectFlags,
    project_options_long_file,
    run,
    service_argument,
)
from opendeploy_plan.cli.options import GatewayChoice, connected, gateway_options

if TYPE_CHECKING:
    from opendeploy_plan.engine.prepare import Prepared


@click.command()
@service_argument
@click.option("--tail", type=click.IntRange(min=0), default=None, help="Only the last N lines.")
@click.option("--since", default=None, metavar="T", help="Only lines after T (10m, 2h, or a time).")
@click.option("--follow", "-f", "-F", is_flag=True, help="Keep printing new lines (Ctrl-C stops).")
@click.option("--build", is_flag=True, help="The latest deployment's build/deploy log instead.")
@project_options_long_file
@gateway_options
def logs(
    service_name: str | None,
    tail: int | None,
    since: str | None,
    follow: bool,
    build: bool,
    project_flags: ProjectFlags,
    gateway_choice: GatewayChoice,
) -> None:
    """Print SERVICE's runtime logs, or with --build its latest deployment's logs.

    SERVICE may be left out when the manifest (or the project) has one service. -f follows,
    as in tail -f; the manifest is --file PATH for this command.

    --build --follow streams the deployment log and ends when the deployment does; --follow
    alone polls the runtime logs until Ctrl-C. Exit 0 when shown (and when a stream ends),
    1 on errors, 130 on Ctrl-C.
    """
    from opendeploy_plan.ops.logs import parse_since

    if follow and build and tail is not None:
        raise click.UsageError(
            "--tail cannot be combined with --build --follow (the stream "
            "starts at the beginning of the deployment log); use --since"
        )
    since_at = None
    if since is not None:
        try:
            since_at = parse_since(since)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
    prepared = project_flags.load()
    run(_logs(service_name, tail, since_at, follow, build, project_flags, prepared, gateway_choice))
    sys.exit(0)


async def _logs(
    name: str | None,
    tail: int | None,
    since: str | None,
    follow: bool,
    build: bool,
    flags: ProjectFlags,
    prepared: Prepared | None,
    choice: GatewayChoice,
) -> None:
    from opendeploy_plan.ops.live import OpsError, service_deployments
    from opendeploy_plan.ops.logs import follow_deployment, follow_runtime, format_row, select

    settings = choice.settings()

    def emit(line: str) -> None:
        click.echo(line)

    async with connected(settings) as client:
        project = await flags.find(client, prepared)
        service = await flags.find_service(client, project, name, prepared)
        if not build:

            async def fetch() -> list[Any]:
                answer = await client.service_logs(project.id, service.id, tail=tail)
                return list(answer.logs or [])

            if follow:
                await follow_runtime(fetch, emit, since=since, tail=tail)
                return
            rows = select(await fetch(), tail=tail, since=since)
            for row in rows:
                emit(format_row(row))
            if not rows:
                click.echo(f"no runtime log lines for {service.name}", err=True)
            return
        deployments = await service_deployments(client, project.id, service.id)
        if not deployments:
            raise OpsError(f"{service.name} has no deployment yet", hint="Run odplan apply.")
        latest = deployments[0]
        click.echo(f"deployment {latest.id} ({latest.status})", err=True)
        if follow:
            end = await follow_deployment(client, latest.id, emit, since=since)
            final = end.status or (await client.get_deployment(latest.id)).status
            click.echo(f"deployment {latest.id} ended: {final}", err=True)
            return
        answer = await client.deployment_logs(latest.id, tail=tail, since=since)
        if answer.logs is None:
            click.echo(
                "no build log: the deployment failed before writing one"
                + (f" ({latest.error_msg})" if latest.error_msg else ""),
                err=True,
            )
            return
        for row in answer.logs:
            emit(format_row(row))
