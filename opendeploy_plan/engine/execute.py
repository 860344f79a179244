"""Run a plan: build the executor's inputs from a planning pass, execute with Ctrl-C handling.

The first Ctrl-C (or SIGTERM) lets the actions in flight finish (and says so through
`on_interrupt`); a second aborts them. What is shown while it runs is the caller's `hooks` (a view).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from collections.abc import Callable

from opendeploy_plan.apply.executor import ApplyHooks, ApplyInputs, ApplyResult, Executor
from opendeploy_plan.apply.scheduler import Interrupt
from opendeploy_plan.auditlog import AuditLog
from opendeploy_plan.engine.desired import env_file_paths
from opendeploy_plan.engine.prepare import Prepared
from opendeploy_plan.gateway import GatewayClient
from opendeploy_plan.plan import Plan

__all__ = ["execute_plan"]


def _inputs(prepared: Prepared, plan: Plan, run_id: str) -> ApplyInputs:
    assert prepared.resolution is not None and prepared.resolution.desired is not None
    assert prepared.observed is not None
    manifest = prepared.load.manifest
    assert manifest is not None
    source = prepared.resolution.source
    return ApplyInputs(
        plan=plan,
        desired=prepared.resolution.desired,
        observed=prepared.observed,
        manifest_dir=prepared.load.manifest_dir,
        manifest_path=prepared.manifest_path,
        secret_files=env_file_paths(manifest, prepared.load.environment),
        planned_selection=source.selection if source is not None else None,
        run_id=run_id,
        git_token=prepared.resolution.git_tokens.get("git_token"),
    )


async def execute_plan(
    client: GatewayClient,
    prepared: Prepared,
    plan: Plan,
    *,
    parallelism: int,
    hooks: ApplyHooks,
    audit: AuditLog,
    on_interrupt: Callable[[], None] = lambda: None,
) -> ApplyResult:
    """Execute `plan` (made by `prepared`'s planning pass); every line of the run's audit log
    carries one run id."""
    run_id = uuid.uuid4().hex[:12]
    run_audit = audit.bind(run_id=run_id)
    executor = Executor(client, _inputs(prepared, plan, run_id), hooks=hooks, audit=run_audit)
    interrupt = Interrupt()
    loop = asyncio.get_running_loop()

    def on_sigint() -> None:
        if not interrupt.draining.is_set():
            on_interrupt()
        interrupt.request()

    # SIGTERM (a CI runner cancelling the job, `kill`, `timeout`) ends apply as Ctrl-C does:
    # the actions in flight finish and the summary says what happened.
    installed: list[signal.Signals] = []
    # Signal handlers cannot be installed off the main thread (tests run us in-process).
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, on_sigint)
            installed.append(signum)
    run_audit.info("apply.start", project=plan.project, actions=len(plan.actions))
    try:
        result = await executor.run(parallelism=parallelism, interrupt=interrupt)
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
    run_audit.info("apply.done", ok=result.report.ok)
    return result
