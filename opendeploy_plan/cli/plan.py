"""`odplan plan`: show what apply would change, Terraform-style; exit 2 on changes if asked."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from opendeploy_plan.cli.options import GatewayChoice, fail, gateway_errors, gateway_options
from opendeploy_plan.cli.planning import (
    PlanningFlags,
    is_unbound_guest,
    load_or_exit,
    plan_once,
    planning_options,
)

if TYPE_CHECKING:
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.gateway import Credential


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
    if out is not None and not out.parent.is_dir():
        # Before any request: a plan that cannot be saved is not worth refreshing for.
        fail(f"cannot save the plan to {out}: folder {out.parent} does not exist")
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
    prepared: Prepared,
    flags: PlanningFlags,
    choice: GatewayChoice,
    out: Path | None,
    output_format: str,
    detailed_exitcode: bool,
    no_color: bool,
) -> int:
    from opendeploy_plan.fsutil import write_atomic
    from opendeploy_plan.gateway import connect
    from opendeploy_plan.plan import save_plan
    from opendeploy_plan.render import render_human, render_json, render_markdown, use_color

    settings = choice.settings()
    audit = choice.audit_log()
    async with connect(settings, env=os.environ) as client:
        guest = await is_unbound_guest(client, settings.credential)
        # Only the human view is read on a terminal; JSON and Markdown usually go to a file.
        shows_plan = output_format not in ("json", "markdown")
        await plan_once(
            client, prepared, flags, guest=guest, shows_plan=shows_plan, reuse_listings=True
        )
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
    if guest:
        click.echo(_guest_note(settings.credential), err=True)
    if out is not None and result.errors:
        click.echo(f"The plan has errors; it was not saved to {out}.", err=True)
    elif out is not None:
        data = save_plan(result, manifest_digest=prepared.manifest_digest, gateway=settings.url)
        try:
            # Plans hold no secrets, but they describe infrastructure: owner-only, atomic.
            write_atomic(out, data)
        except OSError as exc:
            fail(f"cannot save the plan to {out}: {exc.strerror or exc}")
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


def _guest_note(credential: Credential | None) -> str:
    """The guest caps (from the platform rules) and how to lift them. A guest token given as
    OD_API_KEY carries no guest_id/bind_sig, so its binding URL cannot be derived here."""
    from opendeploy_plan import platform

    caps = (
        f"caps: {platform.GUEST_SERVICES_PER_PROJECT} service per project, "
        f"{platform.GUEST_CPU_LIMIT_MILLICORES / 1000:g} vCPU, "
        f"{platform.GUEST_MEMORY_LIMIT_BYTES / 1024**3:g} GiB, "
        f"{platform.GUEST_MAX_REPLICAS} replica"
    )
    bind_url = credential.bind_url if credential else None
    where = (
        f"Bind it: {bind_url}"
        if bind_url
        else "Bind it with the binding URL printed when it was registered."
    )
    return f"note: this guest credential is not linked to an account ({caps}). {where}"
