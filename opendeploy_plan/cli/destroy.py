"""`odplan destroy`: delete what the manifest manages; keep the data unless told otherwise."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from opendeploy_plan.cli.options import (
    GatewayChoice,
    connected,
    fail,
    gateway_errors,
    gateway_options,
    stdin_is_interactive,
)
from opendeploy_plan.cli.planning import (
    PlanningFlags,
    load_or_exit,
    manifest_options,
    plan_once,
)

if TYPE_CHECKING:
    from opendeploy_plan.engine.prepare import Prepared


@click.command()
@manifest_options
@gateway_options
@click.option("--auto-approve", is_flag=True, help="Do not ask for the project name.")
@click.option(
    "--allow-data-loss",
    is_flag=True,
    help="Also delete the project and its databases (the platform drops them with the project).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON on stdout.")
@click.option("--no-color", is_flag=True, help="Never colour the output.")
def destroy(
    manifest: Path,
    environment: str | None,
    gateway_choice: GatewayChoice,
    auto_approve: bool,
    allow_data_loss: bool,
    as_json: bool,
    no_color: bool,
) -> None:
    """Delete the services the manifest manages (and with --allow-data-loss, the project)."""
    flags = PlanningFlags(manifest, environment, allow_data_loss=allow_data_loss)
    prepared = load_or_exit(flags, check_sources=False)  # the code may be gone already
    with gateway_errors():
        code = asyncio.run(
            _destroy(prepared, flags, gateway_choice, auto_approve, as_json, no_color)
        )
    sys.exit(code)


async def _destroy(
    prepared: Prepared,
    flags: PlanningFlags,
    choice: GatewayChoice,
    auto_approve: bool,
    as_json: bool,
    no_color: bool,
) -> int:
    from opendeploy_plan.cli.views.apply import apply_view
    from opendeploy_plan.cli.views.common import show_note
    from opendeploy_plan.engine.execute import execute_plan
    from opendeploy_plan.render import use_color

    view = apply_view(as_json=as_json, color=not no_color and use_color(sys.stderr))
    settings = choice.settings()
    audit = choice.audit_log()
    async with connected(settings) as client:
        options = flags.options(guest=False)
        await plan_once(client, prepared, options, destroy=True, shows_plan=True)
        plan = prepared.plan
        if plan is None:
            return 1
        view.plan(plan)
        if plan.errors:
            show_note("Nothing was destroyed: the plan has errors.")
            return 1
        if not plan.actions:
            view.destroyed(plan.project, None)
            return 0
        if not auto_approve:
            _confirm(plan.project)
        result = await execute_plan(
            client,
            prepared,
            plan,
            parallelism=10,
            hooks=view.hooks(),
            audit=audit,
            on_interrupt=view.interrupted,
        )
        view.summary(result.report, "Destroy")
    view.destroyed(plan.project, result)
    audit.info("operate.destroy", project=plan.project, ok=result.report.ok)
    return 0 if result.report.ok else 1


def _confirm(project: str) -> None:
    if not stdin_is_interactive():
        fail(
            "refusing to destroy without confirmation: no terminal to ask on",
            "Review the plan above, then run again with --auto-approve.",
        )
    click.echo(
        f"\nThis deletes the resources above. Type the project name ({project}) to confirm.",
        err=True,
    )
    answer = click.prompt("Project name", default="", show_default=False, err=True)
    if answer.strip() != project:
        fail("Destroy cancelled: the name did not match.")
