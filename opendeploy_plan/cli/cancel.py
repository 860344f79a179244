"""`odplan cancel SERVICE`: stop the service's deployment in flight (asks first)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from opendeploy_plan.cli.operate import ProjectFlags, project_options, run, service_argument
from opendeploy_plan.cli.options import (
    GatewayChoice,
    connected,
    fail,
    gateway_options,
    stdin_is_interactive,
    yes_option,
)

if TYPE_CHECKING:
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.engine.report import DeployReport
    from opendeploy_plan.ops.deployments import Outcome


@click.command()
@service_argument
@project_options
@gateway_options
@yes_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def cancel(
    service_name: str | None,
    project_flags: ProjectFlags,
    gateway_choice: GatewayChoice,
    yes: bool,
    as_json: bool,
) -> None:
    """Cancel SERVICE's running deployment (drops the build) and wait until it stops.

    Asks first unless --yes. Exit 0 when the deployment ends cancelled or nothing was in
    flight, 1 when it ended otherwise, on refusal or any error, 130 on Ctrl-C.
    """
    from opendeploy_plan.cli.views.operation import operation_view

    prepared = project_flags.load()
    outcome, report = run(_cancel(service_name, project_flags, prepared, gateway_choice, yes))
    operation_view(as_json=as_json).finished(outcome, report)
    sys.exit(0 if outcome.succeeded else 1)


async def _cancel(
    name: str | None,
    flags: ProjectFlags,
    prepared: Prepared | None,
    choice: GatewayChoice,
    yes: bool,
) -> tuple[Outcome, DeployReport]:
    import os

    from opendeploy_plan.cli.views.common import show_note
    from opendeploy_plan.cli.views.operation import progress_printer
    from opendeploy_plan.engine.guest import unbound_bind_url
    from opendeploy_plan.engine.local_gateway import localize_report
    from opendeploy_plan.ops.deployments import NothingToCancel, find_in_flight
    from opendeploy_plan.ops.deployments import cancel as do_cancel

    settings = choice.settings()
    audit = choice.audit_log()
    async with connected(settings) as client:
        project = await flags.find(client, prepared)
        service = await flags.find_service(client, project, name, prepared)
        try:
            running = await find_in_flight(client, project, service)
        except NothingToCancel as nothing:
            show_note(nothing.message)
            sys.exit(0)
        question = (
            f"Cancel deployment {running.id} of {service.name} ({running.status}, "
            f"{running.progress or 0}%)? The build is dropped."
        )
        if not yes:
            if not stdin_is_interactive():
                fail("refusing to cancel without confirmation", "Pass --yes to cancel.")
            if not click.confirm(question, default=False, err=True):
                fail("not cancelled")
        outcome = await do_cancel(
            client, project, service, running, audit, on_update=progress_printer(service.name)
        )
        bind_url = await unbound_bind_url(client, settings.credential)
    if outcome.deployment.status != "cancelled":
        show_note(
            f"deployment {running.id} ended {outcome.deployment.status} before the cancel "
            "took effect"
        )
    report = outcome.report(settings.url, bind_url, str(audit.path))
    return outcome, localize_report(report, os.environ)  # local links answer here
