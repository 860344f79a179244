"""`odplan redeploy SERVICE`: deploy a service again from the source already bound (no upload)."""

from __future__ import annotations

import click

from opendeploy_plan.cli.operate import ProjectFlags, finish, project_options, run
from opendeploy_plan.cli.options import GatewayChoice, gateway_options


@click.command()
@click.argument("service_name", metavar="SERVICE")
@project_options
@gateway_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def redeploy(
    service_name: str, project_flags: ProjectFlags, gateway_choice: GatewayChoice, as_json: bool
) -> None:
    """Redeploy SERVICE from the project's current source and wait for the result.

    Exit 0 when the new deployment succeeds, 1 when it fails or on any error, 130 on Ctrl-C
    (the deployment keeps running on the platform).
    """
    prepared = project_flags.load()
    run(
        _redeploy(service_name, project_flags, prepared, gateway_choice, as_json),
        interrupted="the deployment keeps running; see odplan status",
    )


async def _redeploy(
    name: str, flags: ProjectFlags, prepared: object, choice: GatewayChoice, as_json: bool
) -> None:
    import os

    from opendeploy_plan.cli.operate import deploy_report, progress_printer, unbound_bind_url
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.gateway import connect
    from opendeploy_plan.ops.deployments import redeploy as do_redeploy
    from opendeploy_plan.ops.live import find_service

    loaded = prepared if isinstance(prepared, Prepared) else None
    settings = choice.settings()
    audit = choice.audit_log()
    async with connect(settings, env=os.environ) as client:
        project = await flags.find(client, loaded)
        service = await find_service(client, project, name, flags.environment_for(loaded))
        click.echo(f"Redeploying {service.name} of {project.name} from its bound source…", err=True)
        outcome = await do_redeploy(
            client, project, service, audit, on_update=progress_printer(service.name)
        )
        bind_url = await unbound_bind_url(client, settings.credential)
    finish(outcome, deploy_report(outcome, settings.url, bind_url, str(audit.path)), as_json)
