"""`odplan destroy`: delete what the manifest manages; keep the data unless told otherwise."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from opendeploy_plan.cli.options import (
    GatewayChoice,
    fail,
    gateway_errors,
    gateway_options,
    stdin_is_interactive,
)

if TYPE_CHECKING:
    from opendeploy_plan.engine.prepare import Prepared

from opendeploy_plan.cli.planning import (
    PlanningFlags,
    load_or_exit,
    manifest_options,
    plan_once,
)


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
    from opendeploy_plan.cli.apply import execute_plan
    from opendeploy_plan.gateway import connect
    from opendeploy_plan.render import render_human, use_color

    settings = choice.settings()
    audit = choice.audit_log()
    async with connect(settings, env=os.environ) as client:
        await plan_once(client, prepared, flags, guest=False, destroy=True, shows_plan=True)
        plan = prepared.plan
        if plan is None:
            return 1
        color = not no_color and use_color(sys.stderr)
        click.echo(render_human(plan, color=color), err=as_json, color=color)
        if plan.errors:
            click.echo("Nothing was destroyed: the plan has errors.", err=True)
            return 1
        if not plan.actions:
            if as_json:
                click.echo(json.dumps({"destroyed": [], "project": plan.project}))
            return 0
        if not auto_approve:
            _confirm(plan.project)
        result = await execute_plan(
            client, prepared, plan, 10, as_json, color, audit, verb="Destroy"
        )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "project": plan.project,
                    "ok": result.report.ok,
                    "actions": [
                        {"address": r.name, "outcome": r.outcome.value, "reason": r.reason}
                        for r in result.report.results
                    ],
                },
                indent=2,
            )
        )
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
