"""`odplan apply`: plan (or load a saved plan), confirm, execute, verify, report the live URL."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from opendeploy_plan.cli.options import (
    GatewayChoice,
    consent_from_flags,
    fail,
    gateway_errors,
    gateway_options,
    stdin_is_interactive,
    yes_option,
)
from opendeploy_plan.cli.planning import (
    PlanningFlags,
    is_unbound_guest,
    load_or_exit,
    plan_once,
    planning_options,
)

if TYPE_CHECKING:
    from opendeploy_plan.apply.executor import ApplyResult
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.gateway import Credential, GatewayClient
    from opendeploy_plan.plan import Plan, SavedPlan
    from opendeploy_plan.render.deploy_report import DeployReport


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
@click.option("--no-color", is_flag=True, help="Never colour the output.")
@yes_option
def apply(
    planfile: Path | None,
    flags: PlanningFlags,
    gateway_choice: GatewayChoice,
    auto_approve: bool,
    parallelism: int,
    as_json: bool,
    no_color: bool,
    yes: bool,
) -> None:
    """Apply opendeploy.yaml (or a saved plan) to the live platform and print the live URL."""
    saved = _load_saved(planfile) if planfile else None
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
                as_json,
                no_color,
                yes,
            )
        )
    sys.exit(code)


def _load_saved(planfile: Path) -> SavedPlan:
    from opendeploy_plan.plan import SavedPlanError, load_plan

    try:
        saved = load_plan(planfile.read_bytes())
        saved.salt_bytes()  # a hand-edited salt is a bad file, not a traceback
        return saved
    except (OSError, ValueError, SavedPlanError) as exc:
        fail(
            f"cannot use the plan file {planfile}: {exc}",
            "Make a new one with `odplan plan --out FILE`.",
        )


async def _apply(
    prepared: Prepared,
    flags: PlanningFlags,
    choice: GatewayChoice,
    saved: SavedPlan | None,
    auto_approve: bool,
    parallelism: int,
    as_json: bool,
    no_color: bool,
    yes: bool,
) -> int:
    from opendeploy_plan.gateway import GatewayError, connect, ensure_credential
    from opendeploy_plan.render import render_human, use_color

    settings = choice.settings()
    audit = choice.audit_log()
    if settings.credential is None:
        # No account needed for the first deploy: a guest credential, behind the consent gate.
        credential = await ensure_credential(settings, consent_from_flags(yes), audit=audit)
        settings = settings.with_credential(credential)
    if saved is not None:
        _check_saved_identity(saved, prepared, settings.url)
    async with connect(settings, env=os.environ) as client:
        guest = await is_unbound_guest(client, settings.credential)
        salt = saved.salt_bytes() if saved is not None else None
        if saved is not None:
            flags = _flags_from_saved(flags, saved)
        await plan_once(
            client,
            prepared,
            flags,
            guest=guest,
            salt=salt,
            shows_plan=saved is None,
        )
        plan = prepared.plan
        if plan is None:
            return 1
        color = not no_color and use_color(sys.stderr)
        if saved is None:  # shown with its warnings and errors, which stderr does not repeat
            text = render_human(plan, color=color)
            click.echo(text, err=as_json, color=color)
        if plan.errors:
            click.echo("Nothing was applied: the plan has errors.", err=True)
            return 1
        if saved is not None:
            _check_saved_current(saved, prepared)
        _refuse_unsafe_source(prepared)
        if plan.actions and saved is None and not auto_approve:
            _confirm()
        result = None
        if plan.actions:
            result = await execute_plan(client, prepared, plan, parallelism, as_json, color, audit)
        try:
            report = await _report(
                client, prepared, plan, result, settings.credential, guest, audit
            )
        except GatewayError as exc:
            # Reading back for the report failed: the apply's own outcome still decides.
            click.secho(f"warning: could not read the final state: {exc.message}", err=True)
            report = _bare_report(prepared, plan, result, client.base_url, audit)
    ok = result is None or result.report.ok
    if as_json:
        from opendeploy_plan.render.apply_view import error_hint, error_text

        payload: dict[str, Any] = report.as_dict()
        payload["actions"] = [
            {
                "address": r.name,
                "outcome": r.outcome.value,
                "reason": r.reason or (error_text(r.error) if r.error is not None else ""),
                "hint": error_hint(r.error),
            }
            for r in (result.report.results if result is not None else [])
        ]
        click.echo(json.dumps(payload, indent=2))
    elif report.services:
        # Also after a failure: the services that did deploy are live and have their URL.
        from opendeploy_plan.render.deploy_report import render_markdown

        click.echo(render_markdown(report))
    audit.info("report", project_id=report.project_id, status="success" if ok else "failed")
    return 0 if ok else 1


def _flags_from_saved(flags: PlanningFlags, saved: SavedPlan) -> PlanningFlags:
    options = saved.plan_options()
    return dataclasses.replace(
        flags,
        environment=saved.environment,
        target=options.target,
        exclude=options.exclude,
        redeploy=options.redeploy,
        replace=options.replace,
        refresh_only=options.refresh_only,
        prune=options.prune,
        allow_data_loss=options.allow_data_loss,
    )


def _check_saved_identity(saved: SavedPlan, prepared: Prepared, gateway: str) -> None:
    problems = []
    if saved.manifest_digest != prepared.manifest_digest:
        problems.append(f"{prepared.manifest_path} changed since the plan was made")
    if saved.gateway.rstrip("/") != gateway.rstrip("/"):
        problems.append(f"the plan was made for {saved.gateway}, not {gateway}")
    if prepared.load.environment != saved.environment:
        problems.append(f"the plan is for {saved.environment}, not {prepared.load.environment}")
    if problems:
        fail("Saved plan is stale: " + "; ".join(problems), "Run `odplan plan --out FILE` again.")


def _check_saved_current(saved: SavedPlan, prepared: Prepared) -> None:
    assert prepared.observed is not None and prepared.resolution is not None
    assert prepared.resolution.desired is not None and prepared.plan is not None
    stale = saved.stale_addresses(prepared.observed)
    if stale:
        fail(
            "Saved plan is stale: the live state changed since it was made:\n  - "
            + "\n  - ".join(stale),
            "Run `odplan plan --out FILE` again and review the new plan.",
        )
    secrets = saved.changed_secrets(prepared.resolution.desired)
    if secrets:
        fail(
            "Saved plan is stale: these secret values changed since it was made:\n  - "
            + "\n  - ".join(secrets),
            "Run `odplan plan --out FILE` again with the secrets you mean to deploy.",
        )
    if not saved.matches(prepared.plan):
        fail(
            "Saved plan is stale: planning again now gives different actions",
            "Run `odplan plan --out FILE` again and review the new plan.",
        )


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
    answer = click.prompt("Enter a value", default="", show_default=False, err=True)
    if answer.strip() != "yes":
        fail("Apply cancelled.", code=1)


async def execute_plan(
    client: GatewayClient,
    prepared: Prepared,
    plan: Plan,
    parallelism: int,
    as_json: bool,
    color: bool,
    audit: Any,
    verb: str = "Apply",
) -> ApplyResult:
    from opendeploy_plan.apply.executor import ApplyInputs, Executor, SilentHooks
    from opendeploy_plan.apply.scheduler import Interrupt
    from opendeploy_plan.engine.desired import env_file_paths
    from opendeploy_plan.render.apply_view import ConsoleApplyView, summary_text

    assert prepared.resolution is not None and prepared.resolution.desired is not None
    assert prepared.observed is not None
    manifest = prepared.load.manifest
    assert manifest is not None
    run_id = uuid.uuid4().hex[:12]
    inputs = ApplyInputs(
        plan=plan,
        desired=prepared.resolution.desired,
        observed=prepared.observed,
        manifest_dir=prepared.load.manifest_dir,
        manifest_path=prepared.manifest_path,
        secret_files=env_file_paths(manifest, prepared.load.environment),
        planned_selection=(
            prepared.resolution.source.selection if prepared.resolution.source is not None else None
        ),
        run_id=run_id,
        git_token=prepared.resolution.git_tokens.get("git_token"),
    )
    view = ConsoleApplyView(sys.stderr, color=color)
    run_audit = audit.bind(run_id=run_id)
    executor = Executor(
        client, inputs, hooks=view if not as_json else SilentHooks(), audit=run_audit
    )
    interrupt = Interrupt()
    loop = asyncio.get_running_loop()

    def on_sigint() -> None:
        if not interrupt.draining.is_set():
            click.echo(
                "\nInterrupt: finishing the actions in flight (Ctrl-C again to abort them)…",
                err=True,
            )
        interrupt.request()

    installed = False
    # Signal handlers cannot be installed off the main thread (tests run us in-process).
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, on_sigint)
        installed = True
    run_audit.info("apply.start", project=plan.project, actions=len(plan.actions))
    try:
        result = await executor.run(parallelism=parallelism, interrupt=interrupt)
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
    click.echo("\n" + summary_text(result.report, verb), err=True, nl=False)
    run_audit.info("apply.done", ok=result.report.ok)
    return result


def _failed_actions(result: ApplyResult | None) -> tuple[str, ...]:
    return tuple(
        r.name
        for r in (result.report.results if result is not None else [])
        if r.outcome.value != "succeeded"
    )


def _bare_report(
    prepared: Prepared, plan: Plan, result: ApplyResult | None, gateway: str, audit: Any
) -> DeployReport:
    """The report without a final read of live state (it failed): statuses stay unknown."""
    from opendeploy_plan.render.deploy_report import DeployReport, ServiceOutcome

    assert prepared.resolution is not None and prepared.resolution.desired is not None
    desired = prepared.resolution.desired
    project = prepared.observed.project if prepared.observed is not None else None
    return DeployReport(
        project_name=desired.project,
        project_id=project.id if project is not None else "",
        environment=desired.environment,
        gateway=gateway,
        services=[ServiceOutcome(name, "unknown") for name in sorted(desired.services)],
        log_file=str(audit.path),
        failed_actions=_failed_actions(result),
    )


async def _report(
    client: GatewayClient,
    prepared: Prepared,
    plan: Plan,
    result: ApplyResult | None,
    credential: Credential | None,
    guest: bool,
    audit: Any,
) -> DeployReport:
    """The final report: every managed service's latest deployment and live URL, read back."""
    from opendeploy_plan.render.deploy_report import DeployReport, ServiceOutcome
    from opendeploy_plan.state.refresh import refresh

    assert prepared.resolution is not None and prepared.resolution.desired is not None
    desired = prepared.resolution.desired
    observed = await refresh(client, desired.project, desired.environment)
    services = []
    for name in sorted(desired.services):
        live = observed.services.get(name)
        latest = live.latest_deployment() if live else None
        url = f"https://{live.domain.domain}" if live and live.domain else ""
        services.append(
            ServiceOutcome(
                name=name,
                status=latest.status if latest else "not deployed",
                deployment_id=latest.id if latest else "",
                url=url,
            )
        )
    bind = credential.bind_url if (guest and credential is not None) else None
    return DeployReport(
        project_name=desired.project,
        project_id=observed.project.id if observed.project else "",
        environment=desired.environment,
        gateway=client.base_url,
        services=services,
        bind_url=bind or "",
        log_file=str(audit.path),
        failed_actions=_failed_actions(result),
    )
