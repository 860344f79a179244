"""The day-two commands as a user runs them after `odplan apply`, as child processes against
both emulator profiles (issue 14): redeploy keeps the plan empty, rollback returns to the
previous deployment, cancel with nothing in flight is a no-op, build and runtime logs print,
status shows the service in sync, and destroy (test_destroy.py) takes it all down."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.e2e.apply_support import Odplan, describe, example_odplan, real_gateway

PROJECT = "fastapi-shortener"


def _deployments(odplan: Odplan) -> list[tuple[str, str]]:
    """(id, status) of the `api` service's deployments, newest first."""

    async def go() -> list[tuple[str, str]]:
        async with odplan.client() as client:
            project = await client.find_project_by_name(PROJECT)
            assert project is not None
            rows = await client.list_deployments(project_id=project.id)
            return [(d.id, d.status) for d in rows]

    return asyncio.run(go())


def test_redeploy_rollback_cancel_logs_and_status_after_apply(profile: str, tmp_path: Path) -> None:
    with real_gateway(profile=profile, auto_domain_delay_seconds=0.0) as gateway:
        odplan = example_odplan(gateway, tmp_path, "fastapi-postgres-redis")
        applied = odplan.apply()
        assert applied.returncode == 0, describe(applied)
        (first, _), *_ = _deployments(odplan)

        redeployed = odplan.run("redeploy", "api")
        assert redeployed.returncode == 0, describe(redeployed)
        planned = odplan.plan("--detailed-exitcode")  # the redeploy kept the stamp
        assert planned.returncode == 0, describe(planned)
        (second, status), *_ = _deployments(odplan)
        assert second != first and status == "success"

        rolled = odplan.run("rollback", "api")
        assert rolled.returncode == 0, describe(rolled)
        (third, status), *_ = _deployments(odplan)
        assert third not in (first, second) and status == "success"

        cancelled = odplan.run("cancel", "api", "--yes")
        assert cancelled.returncode == 0, describe(cancelled)

        build_log = odplan.run("logs", "api", "--build")
        assert build_log.returncode == 0 and build_log.stdout.strip(), describe(build_log)
        runtime_log = odplan.run("logs", "api", "--tail", "20")
        assert runtime_log.returncode == 0, describe(runtime_log)

        status_run = odplan.run("status")
        assert status_run.returncode == 0, describe(status_run)
        assert "api" in status_run.stdout
        for run in (redeployed, rolled, cancelled, build_log, runtime_log, status_run):
            assert "Traceback" not in run.stderr, describe(run)
