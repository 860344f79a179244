"""`odplan plan`: show what apply would change, Terraform-style; exit 2 on changes if asked."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import click

from opendeploy_plan.cli.options import GatewayChoice, gateway_errors, gateway_options
from opendeploy_plan.cli.planning import (
    PlanningFlags,
    is_unbound_guest,
    load_or_exit,
    plan_once,
    planning_options,
)


@click.command()
@planning_options
@gateway_options
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan for `odplan apply PLANFILE`.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["human", "json", "markdown"]),
    default="human",
    show_default=True,
    help="How to print the plan.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 1 on error, 2 when there are changes.",
)
@click.option("--no-color", is_flag=True, help="Never colour the output.")
def plan(
    flags: PlanningFlags,
    gateway_choice: GatewayChoice,
    out: Path | None,
    output_format: str,
    as_json: bool,
    detailed_exitcode: bool,
    no_color: bool,
) -> None:
    """Compare opendeploy.yaml with the live platform and show the actions apply would take."""
    prepared = load_or_exit(flags)
    with gateway_errors():
        code = asyncio.run(
            _plan(
                prepared,
                flags,
                gateway_choice,
                out,
                "json" if as_json else output_format,
                detailed_exitcode,
                no_color,
            )
        )
    sys.exit(code)


async def _plan(
    prepared: object,
    flags: PlanningFlags,
    choice: GatewayChoice,
    out: Path | None,
    output_format: str,
    detailed_exitcode: bool,
    no_color: bool,
) -> int:
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.gateway import connect
    from opendeploy_plan.plan import save_plan
    from opendeploy_plan.render import render_human, render_json, render_markdown, use_color

    assert isinstance(prepared, Prepared)
    settings = choice.settings()
    audit = choice.audit_log()
    async with connect(settings, env=os.environ) as client:
        guest = await is_unbound_guest(client, settings.credential)
        await plan_once(client, prepared, flags, guest=guest)
    result = prepared.plan
    if result is None:
        audit.error("plan.done", manifest=str(flags.manifest), errors=len(prepared.diagnostics))
        return 1
    if output_format == "json":
        click.echo(render_json(result))
    elif output_format == "markdown":
        click.echo(render_markdown(result))
    else:
        color = not no_color and use_color(sys.stdout)
        click.echo(render_human(result, color=color), color=color)
    if guest and settings.credential is not None and settings.credential.bind_url:
        click.echo(
            "note: this guest credential is not linked to an account (caps: 1 service, 1 vCPU, "
            f"1 GiB). Bind it: {settings.credential.bind_url}",
            err=True,
        )
    if out is not None and not result.errors:
        data = save_plan(result, manifest_digest=prepared.manifest_digest, gateway=settings.url)
        _write_private(out, data)
        click.echo(f"Saved the plan to {out}. Apply it with: odplan apply {out}", err=True)
    summary = result.summary
    audit.info(
        "plan.done",
        project=result.project,
        environment=result.environment,
        create=summary.create,
        update=summary.update,
        destroy=summary.destroy,
        deploy=summary.deploy,
    )
    if result.errors:
        return 1
    return result.detailed_exit_code if detailed_exitcode else 0


def _write_private(path: Path, data: bytes) -> None:
    """Plans hold no secrets, but they describe infrastructure: owner-only, written atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
