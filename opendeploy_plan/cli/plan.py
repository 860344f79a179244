"""`odplan plan`: show what apply would change, Terraform-style; exit 2 on changes if asked."""

from __future__ import annotations

import asyncio
import dataclasses
import os
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
)
from opendeploy_plan.cli.planning import (
    PlanningFlags,
    load_or_exit,
    plan_once,
    planning_options,
)

if TYPE_CHECKING:
    from opendeploy_plan.engine.prepare import Prepared


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
    from opendeploy_plan.cli.views.common import show_note
    from opendeploy_plan.cli.views.plan import plan_view, show_guest_note
    from opendeploy_plan.engine.guest import is_unbound_guest
    from opendeploy_plan.engine.saved import new_plan_key
    from opendeploy_plan.fsutil import write_atomic
    from opendeploy_plan.plan import save_plan
    from opendeploy_plan.render import use_color

    view = plan_view(output_format, color=not no_color and use_color(sys.stdout))
    choice = choice.in_folder(prepared.load.manifest_dir)
    settings = choice.settings()
    audit = choice.audit_log()
    # A saved plan's hashes are keyed by a secret the file does not hold (engine.saved).
    plan_key = new_plan_key(settings.credential, os.environ) if out is not None else None
    async with connected(settings) as client:
        guest = await is_unbound_guest(client, settings.credential)
        options = flags.options(guest=guest)
        if plan_key is not None:
            options = dataclasses.replace(options, salt=plan_key.key)
        await plan_once(
            client,
            prepared,
            options,
            shows_plan=view.shows_diagnostics,
            reuse_listings=True,
        )
    result = prepared.plan
    if result is None:
        audit.error("plan.done", manifest=str(flags.manifest), errors=len(prepared.diagnostics))
        return 1
    view.plan(result)
    if guest:
        bind_url = settings.credential.bind_url if settings.credential else None
        if bind_url and settings.local:  # as it answers here, or marked as simulated
            from opendeploy_plan.engine.local_gateway import local_page_link

            bind_url = local_page_link(bind_url, os.environ)
        show_guest_note(bind_url)
    if out is not None and result.errors:
        show_note(f"The plan has errors; it was not saved to {out}.")
    elif out is not None:
        assert plan_key is not None
        data = save_plan(
            result,
            manifest_digest=prepared.manifest_digest,
            gateway=settings.url,
            salt=plan_key.salt,
            key_check=plan_key.check,
        )
        try:
            # Plans hold no secrets, but they describe infrastructure: owner-only, atomic.
            write_atomic(out, data)
        except OSError as exc:
            fail(f"cannot save the plan to {out}: {exc.strerror or exc}")
        show_note(f"Saved the plan to {out}. Apply it with: odplan apply {out}")
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
