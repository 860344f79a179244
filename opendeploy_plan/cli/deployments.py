"""`odplan deployments [SERVICE]`: a service's deployments, newest first, with the source each
was built from and the one that serves traffic."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from opendeploy_plan.cli.operate import ProjectFlags, project_options, run, service_argument
from opendeploy_plan.cli.options import GatewayChoice, connected, gateway_options

if TYPE_CHECKING:
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.ops.history import DeploymentRow


@click.command()
@service_argument
@project_options
@gateway_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def deployments(
    service_name: str | None,
    project_flags: ProjectFlags,
    gateway_choice: GatewayChoice,
    as_json: bool,
) -> None:
    """List SERVICE's deployments: id, status, age, source digest (from odplan's stamp, through
    rollbacks) and which one serves. SERVICE may be left out when the manifest (or the project)
    has one service. Pass an id to `odplan rollback --to`.

    Exit 0 when listed, 1 when the service cannot be found or on any error.
    """
    from opendeploy_plan.cli.views.status import deployments_view

    prepared = project_flags.load()
    name, rows = run(_read(service_name, project_flags, prepared, gateway_choice))
    deployments_view(as_json=as_json).deployments(name, rows)
    sys.exit(0)


async def _read(
    name: str | None, flags: ProjectFlags, prepared: Prepared | None, choice: GatewayChoice
) -> tuple[str, list[DeploymentRow]]:
    from opendeploy_plan.ops.history import deployment_rows
    from opendeploy_plan.ops.live import service_deployments

    async with connected(choice.settings()) as client:
        project = await flags.find(client, prepared)
        service = await flags.find_service(client, project, name, prepared)
        found = await service_deployments(client, project.id, service.id)
    return service.name, deployment_rows(found)
