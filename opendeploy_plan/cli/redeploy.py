"""`odplan redeploy SERVICE`: deploy a service again from the source already bound (no upload)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from opendeploy_plan.cli.operate import ProjectFlags, project_options, run, service_argument
from opendeploy_plan.cli.options import GatewayChoice, connected, gateway_options

if TYPE_CHECKING:
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.engine.report import DeployReport
    from opendeploy_plan.ops.deployments import Outcome


@click.command()
@service_argument
@project_options
@gateway_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def redeploy(
    service_name: str | None,
    project_flags: ProjectFlags,
    gateway_choice: GatewayChoice,
    as_json: bool,
) -> None:
    """Redeploy SERVICE from the project's current source and wait for the result.

    Exit 0 when the new deployment succeeds, 1 when it fails or on any error, 130 on Ctrl-C
    (the deployment keeps running on the platform).
    """
    from opendeploy_plan.cli.views.operation import operation_view

    prepared = project_flags.load()
    outcome, report = run(
        _redeploy(service_name, project_flags, prepared, gateway_choice),
        interrupted="the deployment keeps running; see odplan status",
    )
    operation_view(as_json=as_json).finished(outcome, report)
    sys.exit(0 if outcome.succeeded else 1)


async def _redeploy(
    name: str | None, flags: ProjectFlags, prepared: Prepared | None, choice: GatewayChoice
) -> tuple[Outcome, DeployReport]:
    import os

    from opendeploy_plan.cli.views.common import show_note
    from opendeploy_plan.cli.views.operation import progress_printer
    from opendeploy_plan.engine.guest import unbound_bind_url
    from opendeploy_plan.engine.local_gateway import localize_report
    from opendeploy_plan.ops.deployments import redeploy as do_redeploy

    settings = choice.settings()
    audit = choice.audit_log()
    async with connected(settings) as client:
        project = await flags.find(client, prepared)
        service = await flags.find_service(client, project, name, prepared)
        show_note(f"Redeploying service {service.name} (project {project.name}) from its source…")
        outcome = await do_redeploy(
            client, project, service, audit, on_update=progress_printer(service.name)
        )
        bind_url = await unbound_bind_url(client, settings.credential)
    report = outcome.report(settings.url, bind_url, str(audit.path))
    return outcome, localize_report(report, os.environ)  # local links answer here
