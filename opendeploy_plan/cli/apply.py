"""`odplan apply`: plan (or load a saved plan), confirm, execute, verify, report the live URL."""

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
    consent_from_flags,
    fail,
    gateway_errors,
    gateway_options,
    guest_explanation,
    stdin_is_interactive,
    warn,
    yes_option,
)
from opendeploy_plan.cli.planning import (
    PlanningFlags,
    load_or_exit,
    plan_once,
    planning_options,
)

if TYPE_CHECKING:
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.plan import SavedPlan


@click.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False, path_type=Path))
@planning_options
@gateway_options
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--parallelism",
    type=click.IntRange(1, 64),
    default=10,
    show_default=True,
    help="How many actions may run at once.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["human", "markdown", "json"]),
    default=None,
    help=(
        "The final report: a plain summary (default on a terminal), the skill's Markdown "
        "(default when stdout is not a terminal, e.g. a CI step summary), or JSON."
    ),
)
@click.option("--no-color", is_flag=True, help="Never colour the output.")
@yes_option
def apply(
    planfile: Path | None,
    flags: PlanningFlags,
    gateway_choice: GatewayChoice,
    auto_approve: bool,
    parallelism: int,
    as_json: bool,
    report_format: str | None,
    no_color: bool,
    yes: bool,
) -> None:
    """Apply opendeploy.yaml (or a saved plan) to the live platform and print the live URL."""
    saved = None
    if planfile is not None:
        from opendeploy_plan.engine.saved import read_saved_plan

        with gateway_errors():
            saved = read_saved_plan(planfile)
    if saved is not None and flags.environment is None:
        # A saved plan knows its environment; an explicit, different -e is refused later.
        flags = dataclasses.replace(flags, environment=saved.environment)
    prepared = load_or_exit(flags)
    with gateway_errors():
        code = asyncio.run(
            _apply(
                prepared,
                flags,
                gateway_choice,
                saved,
                auto_approve,
                parallelism,
                as_json or report_format == "json",
                report_format,
                no_color,
                yes,
            )
        )
    sys.exit(code)


async def _apply(
    prepared: Prepared,
    flags: PlanningFlags,
    choice: GatewayChoice,
    saved: SavedPlan | None,
    auto_approve: bool,
    parallelism: int,
    as_json: bool,
    report_format: str | None,
    no_color: bool,
    yes: bool,
) -> int:
    from opendeploy_plan.cli.views.apply import apply_view
    from opendeploy_plan.cli.views.common import show_note, show_warning
    from opendeploy_plan.engine.execute import execute_plan
    from opendeploy_plan.engine.guest import is_unbound_guest
    from opendeploy_plan.engine.report import apply_headline, bare_report, read_final_report
    from opendeploy_plan.engine.saved import (
        check_saved_current,
        check_saved_identity,
        saved_plan_options,
        unlock_saved_plan,
    )
    from opendeploy_plan.gateway import GatewayError, ensure_credential
    from opendeploy_plan.render import use_color

    view = apply_view(
        as_json=as_json, color=not no_color and use_color(sys.stderr), report_format=report_format
    )
    choice = choice.in_folder(prepared.load.manifest_dir)
    settings = choice.settings()
    audit = choice.audit_log()
    if settings.credential is None:
        # No account needed for the first deploy: a guest credential, behind the consent gate.
        consent = consent_from_flags(yes, explain=guest_explanation(settings.auth_path))
        credential = await ensure_credential(settings, consent, audit=audit, warn=warn)
        settings = settings.with_credential(credential)
    if saved is not None:
        saved = unlock_saved_plan(saved, settings.credential, os.environ)
        check_saved_identity(saved, prepared, settings.url)
    async with connected(settings, warn=warn) as client:
        guest = await is_unbound_guest(client, settings.credential)
        options = (
            saved_plan_options(saved, guest=guest)
            if saved is not None
            else flags.options(guest=guest)
        )
        await plan_once(client, prepared, options, shows_plan=saved is None)
        plan = prepared.plan
        if plan is None:
            return 1
        if saved is None:  # shown with its warnings and errors, which stderr does not repeat
            view.plan(plan)
        if plan.errors:
            show_note("Nothing was applied: the plan has errors.")
            return 1
        if saved is not None:
            check_saved_current(saved, prepared)
        _refuse_unsafe_source(prepared)
        if plan.actions and saved is None and not auto_approve:
            _confirm()
        # From here on this folder is linked to this gateway (the next command defaults to it).
        choice.remember(settings)
        result = None
        if plan.actions:
            try:
                result = await execute_plan(
                    client,
                    prepared,
                    plan,
                    parallelism=parallelism,
                    hooks=view.hooks(),
                    audit=audit,
                    on_interrupt=view.interrupted,
                )
            finally:
                view.close()
            view.summary(result.report, "Apply")
        used = settings.credential
        bind_url = (used.bind_url or "") if guest and used is not None else ""
        try:
            report = await read_final_report(
                client, prepared, result, bind_url=bind_url, log_file=str(audit.path)
            )
        except GatewayError as exc:
            # Reading back for the report failed: the apply's own outcome still decides.
            show_warning(f"could not read the final state: {exc.message}")
            report = bare_report(prepared, result, client.base_url, str(audit.path))
    ok = result is None or result.report.ok
    kinds = {a.address: str(a.kind) for a in plan.actions}
    report = dataclasses.replace(report, headline=apply_headline(kinds, result), ok=ok)
    view.report(report, result)
    audit.info("report", project_id=report.project_id, status="success" if ok else "failed")
    return 0 if ok else 1


def _refuse_unsafe_source(prepared: Prepared) -> None:
    from opendeploy_plan.source import MiningRefusal

    assert prepared.resolution is not None
    if prepared.resolution.source is None:
        return
    try:
        prepared.resolution.source.refuse_mining()
    except MiningRefusal as exc:
        fail(str(exc), "odplan refuses to deploy crypto-mining software.")


def _confirm() -> None:
    if not stdin_is_interactive():
        fail(
            "refusing to apply without confirmation: no terminal to ask on",
            "Review the plan above, then run again with --auto-approve (or apply a saved plan).",
        )
    click.echo("\nDo you want to perform these actions? Only 'yes' will be accepted.", err=True)
    answer = click.prompt("Enter a value", default="", show_default=False, err=True).strip()
    if answer != "yes":
        # Not an error: the user said no (or something else than `yes`). Exit 1 all the same,
        # as Terraform does, so a script never reads a cancelled apply as done.
        typed = f"you typed {answer!r}; " if answer else ""
        click.echo(f"Apply cancelled ({typed}only 'yes' applies). Nothing was changed.", err=True)
        sys.exit(1)
