"""`odplan rollback SERVICE [--to ID]`: return a service to an earlier successful deployment."""

from __future__ import annotations

import click

from opendeploy_plan.cli.operate import ProjectFlags, finish, project_options, run
from opendeploy_plan.cli.options import GatewayChoice, gateway_options


@click.command()
@click.argument("service_name", metavar="SERVICE")
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
    service_name: str,
    to: str | None,
    project_flags: ProjectFlags,
    gateway_choice: GatewayChoice,
    as_json: bool,
) -> None:
    """Roll SERVICE back and wait for the result.

    Exit 0 when the rollback deployment succeeds, 1 when it fails or on any error, 130 on
    Ctrl-C (the rollback keeps running on the platform).
    """
    prepared = project_flags.load()
    run(
        _rollback(service_name, to, project_flags, prepared, gateway_choice, as_json),
        interrupted="the rollback keeps running; see odplan status",
    )


async def _rollback(
    name: str,
    to: str | None,
    flags: ProjectFlags,
    prepared: object,
    choice: GatewayChoice,
    as_json: bool,
) -> None:
    import os

    from opendeploy_plan.cli.operate import deploy_report, progress_printer, unbound_bind_url
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.gateway import connect
    from opendeploy_plan.ops.deployments import rollback as do_rollback
    from opendeploy_plan.ops.live import find_service

    loaded = prepared if isinstance(prepared, Prepared) else None
    settings = choice.settings()
    audit = choice.audit_log()
    async with connect(settings, env=os.environ) as client:
        project = await flags.find(client, loaded)
        service = await find_service(client, project, name, flags.environment_for(loaded))
        outcome = await do_rollback(
            client, project, service, audit, to=to, on_update=progress_printer(service.name)
        )
        bind_url = await unbound_bind_url(client, settings.credential)
    if outcome.target is not None:
        click.echo(f"Rolled {service.name} back to deployment {outcome.target.id}.", err=True)
    finish(outcome, deploy_report(outcome, settings.url, bind_url, str(audit.path)), as_json)
