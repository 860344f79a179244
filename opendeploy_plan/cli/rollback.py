"""`odplan rollback SERVICE [--to ID]`: return a service to an earlier successful deployment."""

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
@click.option(
    "--to",
    "to",
    metavar="DEPLOYMENT_ID",
    default=None,
    help="The deployment to return to (default: the previous successful one).",
)
@project_options
@gateway_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def rollback(
    service_name: str | None,
    to: str | None,
    project_flags: ProjectFlags,
    gateway_choice: GatewayChoice,
    as_json: bool,
) -> None:
    """Roll SERVICE back and wait for the result.

    Exit 0 when the rollback deployment succeeds, 1 when it fails or on any error, 130 on
    Ctrl-C (the rollback keeps running on the platform).
    """
    from opendeploy_plan.cli.views.operation import operation_view

    prepared = project_flags.load()
    outcome, report = run(
        _rollback(service_name, to, project_flags, prepared, gateway_choice),
        interrupted="the rollback keeps running; see odplan status",
    )
    operation_view(as_json=as_json).finished(outcome, report)
    sys.exit(0 if outcome.succeeded else 1)


async def _rollback(
    name: str | None,
    to: str | None,
    flags: ProjectFlags,
    prepared: Prepared | None,
    choice: GatewayChoice,
) -> tuple[Outcome, DeployReport]:
    import os

    from opendeploy_plan.cli.views.common import show_note
    from opendeploy_plan.cli.views.operation import progress_printer
    from opendeploy_plan.engine.guest import unbound_bind_url
    from opendeploy_plan.engine.local_gateway import localize_report
    from opendeploy_plan.ops.deployments import rollback as do_rollback

    settings = choice.settings()
    audit = choice.audit_log()
    async with connected(settings) as client:
        project = await flags.find(client, prepared)
        service = await flags.find_service(client, project, name, prepared)
        outcome = await do_rollback(
            client, project, service, audit, to=to, on_update=progress_printer(service.name)
        )
        bind_url = await unbound_bind_url(client, settings.credential)
    if outcome.target is not None:
        show_note(f"Rolled {service.name} back to deployment {outcome.target.id}.")
    report = outcome.report(settings.url, bind_url, str(audit.path))
    return outcome, localize_report(report, os.environ)  # local links answer here
