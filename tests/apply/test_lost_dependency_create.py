"""A dependency create whose answer is lost, against the emulator's documented profile (issue
14): its status rows are `{id, status}` only, so nothing but odplan's write-ahead intent in
`.opendeploy/dependencies.json` says which manifest key a new row is.

* Lost in flight (the create committed, the answer never came): the same apply adopts the new
  row, cannot read its credentials, deletes it and creates it again: one `db`, one `cache`,
  each service with its own database's variables.
* Lost by a kill -9 (the intent is on disk, the answer never recorded): the next apply does the
  same, and never creates a second database.
* Two rows nobody can name: plan and apply stop before any write, naming both ids and the way
  out (the hint by hand, or `DELETE /v1/dependencies/<project_id>/<id>`).

Real HTTP to a local gateway, odplan in-process (tests/apply/rig.py).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from opendeploy_plan.gateway import Dependency
from opendeploy_plan.state.hints import (
    HINT_FILE,
    read_dependency_hints,
    read_pending_creates,
    record_create_intent,
)
from tests.apply.rig import Rig, rig

SHOP = """\
version: 1
project:
  name: tiny
dependencies:
  db:
    type: postgres
  cache:
    type: redis
services:
  web:
    type: worker
    source: web
    language: python
    dockerfile: Dockerfile
    uses: [db]
  jobs:
    type: worker
    source: web
    language: python
    dockerfile: Dockerfile
    uses: [cache]
"""


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, SHOP, profile="documented") as the_rig:
        yield the_rig


def _truth(gw: Rig) -> dict[str, tuple[str, dict[str, str]]]:
    """`{id: (display name, env_vars)}` from the emulator's own rows (the profile hides them)."""
    emulator = gw.tamper.app.state.emulator
    with emulator.store.transaction() as tx:
        rows = tx.all("SELECT id, data FROM dependencies")
    return {
        row["id"]: (json.loads(row["data"])["display_name"], json.loads(row["data"])["env_vars"])
        for row in rows
    }


def _assert_one_each_and_not_swapped(gw: Rig) -> None:
    truth = _truth(gw)
    names = sorted(name for name, _ in truth.values())
    assert names == ["cache", "db"], truth.keys()
    env_of = {name: env for name, env in truth.values()}
    live = gw.live()
    assert live.env["web"]["DATABASE_URL"] == env_of["db"]["DATABASE_URL"]
    assert live.env["jobs"]["REDIS_URL"] == env_of["cache"]["REDIS_URL"]
    assert not any(k.startswith("REDIS") for k in live.env["web"]), sorted(live.env["web"])
    assert not any(k.startswith("POSTGRES") for k in live.env["jobs"]), sorted(live.env["jobs"])
    hints = read_dependency_hints(gw.app_dir, "tiny", "production")
    assert {hints[i] for i in truth} == {"db", "cache"}
    assert read_pending_creates(gw.app_dir, "tiny", "production") == {}


def _create_unrecorded(gw: Rig, *types: str) -> list[Dependency]:
    """Databases made behind odplan's back (or by a run killed before the answer came)."""

    async def go() -> list[Dependency]:
        async with gw.client() as client:
            project = await client.find_project_by_name("tiny")
            if project is None:
                project = await client.create_project("tiny")
            return [
                await client.create_dependency(
                    project.id, t, environment="production", display_name=n
                )
                for t, n in zip(types, ("db", "cache"), strict=False)
            ]

    return asyncio.run(go())


def test_a_lost_create_answer_is_adopted_replaced_once_and_never_swapped(gw: Rig) -> None:
    for _ in range(2):  # both creates' answers are lost, one after the other
        gw.add_fault(
            kind="lost_response", method="POST", route="/api/v1/dependencies/create", count=1
        )

    result = gw.apply()

    assert result.exit_code == 0, result.output
    assert gw.faults_left() == []
    assert "a create whose answer was lost left" in result.output
    _assert_one_each_and_not_swapped(gw)
    again = gw.odplan("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_a_create_killed_before_its_answer_is_finished_by_the_next_apply(gw: Rig) -> None:
    # The killed run wrote its intent, sent the create, and died before the answer.
    assert record_create_intent(gw.app_dir, "tiny", "production", "db", "postgres")
    (orphan,) = _create_unrecorded(gw, "postgres")

    planned = gw.odplan("plan")
    assert planned.exit_code == 0, planned.output
    result = gw.apply()

    assert result.exit_code == 0, result.output
    assert f"a create whose answer was lost left {orphan.id}" in result.output
    assert orphan.id not in _truth(gw)
    _assert_one_each_and_not_swapped(gw)
    again = gw.odplan("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_two_rows_nobody_can_name_stop_before_any_write(gw: Rig) -> None:
    made = _create_unrecorded(gw, "postgres", "redis")
    hint_file = gw.app_dir / HINT_FILE
    assert not hint_file.exists()

    for command in ("plan", "apply"):
        result = gw.apply() if command == "apply" else gw.odplan("plan")
        assert result.exit_code == 1, result.output
        assert "cannot tell which is which" in result.output
        for dependency in made:
            assert dependency.id in result.output
        assert "DELETE /v1/dependencies/" in result.output
        assert "Traceback" not in result.output

    assert sorted(_truth(gw)) == sorted(d.id for d in made)
    assert gw.live().services == {}
    assert not hint_file.exists()


def test_a_pending_intent_with_two_unknown_rows_stops_too(gw: Rig) -> None:
    assert record_create_intent(gw.app_dir, "tiny", "production", "db", "postgres")
    made = _create_unrecorded(gw, "postgres", "redis")

    result = gw.apply()

    assert result.exit_code == 1, result.output
    assert "cannot tell which is which" in result.output
    assert sorted(_truth(gw)) == sorted(d.id for d in made)
    assert gw.live().services == {}
