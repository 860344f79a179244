"""`odplan cancel SERVICE`: stop the service's deployment in flight (asks first)."""

from __future__ import annotations

import sys

import click

from opendeploy_plan.cli.operate import ProjectFlags, finish, project_options, run
from opendeploy_plan.cli.options import GatewayChoice, gateway_options, yes_option


@click.command()
@click.argument("service_name", metavar="SERVICE")
@project_options
@gateway_options
@yes_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def cancel(
    service_name: str,
    project_flags: ProjectFlags,
    gateway_choice: GatewayChoice,
    yes: bool,
    as_json: bool,
) -> None:
    """Cancel SERVICE's running deployment (drops the build) and wait until it stops.

    Asks first unless --yes. Exit 0 when the deployment ends cancelled or nothing was in
    flight, 1 when it ended otherwise, on refusal or any error, 130 on Ctrl-C.
    """
    prepared = project_flags.load()
    run(_cancel(service_name, project_flags, prepared, gateway_choice, yes, as_json))


async def _cancel(
    name: str,
    flags: ProjectFlags,
    prepared: object,
    choice: GatewayChoice,
    yes: bool,
    as_json: bool,
) -> None:
    import os

    from opendeploy_plan.cli.operate import deploy_report, progress_printer, unbound_bind_url
    from opendeploy_plan.cli.options import fail, stdin_is_interactive
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.gateway import connect
    from opendeploy_plan.ops.deployments import NothingToCancel, find_in_flight
    from opendeploy_plan.ops.deployments import cancel as do_cancel
    from opendeploy_plan.ops.live import find_service

    loaded = prepared if isinstance(prepared, Prepared) else None
    settings = choice.settings()
    audit = choice.audit_log()
    async with connect(settings, env=os.environ) as client:
        project = await flags.find(client, loaded)
        service = await find_service(client, project, name, flags.environment_for(loaded))
        try:
            running = await find_in_flight(client, project, service)
        except NothingToCancel as nothing:
            click.echo(nothing.message, err=True)
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
        click.echo(
            f"deployment {running.id} ended {outcome.deployment.status} before the cancel "
            "took effect",
            err=True,
        )
    finish(outcome, deploy_report(outcome, settings.url, bind_url, str(audit.path)), as_json)
