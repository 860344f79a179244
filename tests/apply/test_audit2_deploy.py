"""Deployments at apply, the cases an independent mutation audit (issue 19) found unguarded.
Real HTTP against the local gateway, odplan in-process (tests/apply/rig.py).

* The playbook's "fails at progress 10 with no log" signature (the source was never bound) gets
  its own hint, which names the cause and the way out.
* A cancelled deployment is not a success (only `success` succeeds).
* A deployment waits for a database that is still provisioning (made before this plan).
* A deployment after a new upload names this run's upload, not the previous deployment's.
* A log stream that ends while the deployment runs is reopened 5 s later, not at once: the
  wake-up each end causes costs a GET.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.apply.rig import Rig, rig
from tests.apply.test_audit2_race import Answers, BeforeBody
from tests.apply.test_handler_promises import ID, applied, failed, manifest


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, manifest()) as the_rig:
        yield the_rig


def test_a_build_that_fails_at_progress_10_without_a_log_says_the_source_was_not_bound(
    gw: Rig,
) -> None:
    # update-source answers "ok" and binds nothing, and the project row claims a source:
    # the platform then fails the deployment at progress 10 before writing any log.
    gw.tamper.swallow("POST", "/api/v1/upload/update-source", answer={"message": "ok"})
    gw.tamper.app = Answers(
        gw.tamper.app,
        "GET",
        f"/api/v1/projects/{ID}",
        200,
        lambda body: {**body, "source_path": body.get("source_path") or "parked/source.zip"},
    )
    out = " ".join(failed(gw).split())
    assert "The build failed before writing any log (progress 10)" in out, out
    assert "the project's source was not bound" in out


WORKER = """\
version: 1
project:
  name: tiny
services:
  web:
    type: worker
    source: web
    language: python
    dockerfile: Dockerfile
"""


def test_a_cancelled_deployment_fails_the_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, WORKER, build_seconds=3.0) as r:

        async def someone_cancels_it(match: Any) -> None:
            transport = httpx.ASGITransport(app=r.tamper.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
                cancel = f"/api/v1/deployments/{match['id']}/cancel"
                headers = {"Authorization": f"Bearer {r.token}"}
                (await c.post(cancel, headers=headers)).raise_for_status()

        r.tamper.before("GET", "/api/v1/deployments/(?P<id>[^/]+)", someone_cancels_it)
        result = r.apply()
        assert result.exit_code == 1, result.output
        assert "was cancelled" in result.output


def test_a_deployment_waits_for_a_database_still_provisioning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, manifest(), dependency_ready_seconds=2.0) as r:

        async def made_by_hand_just_before() -> None:
            async with r.client() as client:
                project = await client.create_project("tiny")
                await client.create_dependency(
                    project.id, "postgres", environment="production", display_name="db"
                )

        asyncio.run(made_by_hand_just_before())
        lines = applied(r).splitlines()

        def first(text: str) -> int:
            return next((i for i, line in enumerate(lines) if line.endswith(text)), -1)

        assert first("dependency.db") == -1  # planned as existing: no action of its own
        running = first("service.web.deployment: dependency running")
        assert running >= 0, lines
        assert running < first("service.web.deployment: pending"), lines


def test_a_deployment_after_a_new_upload_names_that_upload(gw: Rig) -> None:
    bound: list[str] = []

    async def note(body: dict[str, Any]) -> None:
        bound.append(body["temp_file_path"])

    applied(gw)
    (gw.app_dir / "web" / "main.py").write_text("print('hello again')\n")
    gw.tamper.app = BeforeBody(gw.tamper.app, "POST", "/api/v1/upload/update-source", note)
    applied(gw)

    async def latest_temp_path() -> str:
        async with gw.client() as client:
            deployments = await client.list_deployments()
            newest = max(deployments, key=lambda d: d.created_at)
            return (await client.get_deployment(newest.id)).temp_file_path

    assert len(bound) == 1
    assert asyncio.run(latest_temp_path()) == bound[0]


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_a_log_stream_that_ends_early_is_reopened_seconds_later_not_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    phases = {"pending_seconds": 1.0, "build_seconds": 4.0, "deploy_seconds": 1.0}
    with rig(tmp_path, monkeypatch, WORKER, **phases) as r:
        gets: list[float] = []

        async def note(_match: object) -> None:
            gets.append(time.time())

        # Every log stream ends at once (an empty answer), while the deployment still runs.
        r.tamper.swallow("GET", f"/api/v1/deployments/{ID}/logs/stream", count=None)
        r.tamper.before("GET", f"/api/v1/deployments/{ID}", note, count=None)
        applied(r)

        async def read() -> float:
            async with r.client() as client:
                (deployment,) = await client.list_deployments()
                return _epoch(deployment.completed_at or "") - _epoch(deployment.created_at)

        duration = asyncio.run(read())
        assert duration >= 5.0
        # Polls every 2 s, plus one wake-up per stream end: one at once, then every 5 s.
        allowed = math.ceil(duration / 2) + math.ceil(duration / 5) + 3
        assert len(gets) <= allowed, [round(b - a, 2) for a, b in itertools.pairwise(gets)]
