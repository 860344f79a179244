"""`odplan status`: the live services of a project, and whether each matches the manifest."""

from __future__ import annotations

import sys

import click

from opendeploy_plan.cli.operate import ProjectFlags, project_options, run
from opendeploy_plan.cli.options import GatewayChoice, connected, gateway_options


@click.command()
@project_options
@gateway_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(project_flags: ProjectFlags, gateway_choice: GatewayChoice, as_json: bool) -> None:
    """Show each service's latest deployment, URL, resources and replicas, and whether it is in
    sync with the manifest (the plan has no action for it) or has changes pending.

    Exit 0 when the status was shown (also with changes pending), 1 when the project cannot be
    read.
    """
    import os
    from dataclasses import replace

    from opendeploy_plan.cli.views.common import show_diagnostics, show_warning
    from opendeploy_plan.cli.views.progress import progress_mode, refreshing
    from opendeploy_plan.cli.views.status import status_view
    from opendeploy_plan.engine.local_gateway import local_links
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.ops.project_status import ProjectStatus, read_project_status

    view = status_view(as_json=as_json)
    prepared = project_flags.load()

    made: list[Prepared] = []  # the plan behind the MANIFEST column, said after the spinner

    def planned(done: Prepared) -> None:
        show_diagnostics(done.diagnostics)
        if done.plan is None or done.plan.errors:
            show_warning(
                "no plan could be made, so whether services match the manifest "
                "is unknown (see the diagnostics above)"
            )

    async def read() -> ProjectStatus:
        settings = gateway_choice.settings()
        async with connected(settings) as client:
            with refreshing(progress_mode()):
                found = await read_project_status(
                    client,
                    prepared=prepared,
                    project_ref=project_flags.project,
                    environment=project_flags.environment_for(None),
                    credential=settings.credential,
                    on_planned=made.append,
                )
            for done in made:
                planned(done)
            # The local gateway's URLs as they answer here (or marked as simulated).
            links = local_links(client.base_url, os.environ)
            if links is not None:
                found.services[:] = [
                    replace(row, url=links.app(row.url.removeprefix("https://")))
                    if row.url
                    else row
                    for row in found.services
                ]
            return found

    view.status(run(read()))
    sys.exit(0)
