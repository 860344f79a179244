"""Databases at apply (mutation audit, issue 19), over real HTTP against the local gateway:
one that exists already is adopted without a create being sent at all; every row of a
duplicated key goes on a replace, and each delete is read back; a database that fails to
provision stops the apply; a named env file outside the default patterns is never zipped.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from opendeploy_plan.gateway import GatewayClient
from tests.apply.rig import Rig, rig
from tests.apply.test_handler_promises import ID, applied, failed, manifest


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, manifest()) as the_rig:
        yield the_rig


async def _nothing(_match: Any) -> None:
    return None


def test_a_database_made_since_planning_is_adopted_without_any_create(gw: Rig) -> None:
    async def another_apply_creates_db(match: Any) -> None:
        transport = httpx.ASGITransport(app=gw.tamper.app)
        async with GatewayClient("http://gateway/api", gw.token, transport=transport) as client:
            await client.create_dependency(
                match["project"], "postgres", environment="production", display_name="db"
            )

    gw.tamper.before(
        "GET", f"/api/v1/dependencies/status/(?P<project>{ID})", another_apply_creates_db
    )
    gw.tamper.before("POST", "/api/v1/dependencies/create", _nothing, count=None)
    applied(gw)
    fired = gw.tamper.fired()
    assert fired["before POST /api/v1/dependencies/create"] == 0, fired  # adopted, not made
    assert gw.live().dependencies == {"db": 1}


def _project_and_db_ids(gw: Rig) -> tuple[str, list[str]]:
    async def go() -> tuple[str, list[str]]:
        async with gw.client() as client:
            project = await client.find_project_by_name("tiny")
            assert project is not None
            rows = (await client.dependency_status(project.id)).dependencies
            return project.id, [d.id for d in rows]

    return asyncio.run(go())


def _add_second_db(gw: Rig) -> list[str]:
    project_id, _ = _project_and_db_ids(gw)

    async def go() -> None:
        async with gw.client() as client:
            await client.create_dependency(
                project_id, "postgres", environment="production", display_name="db"
            )

    asyncio.run(go())
    return _project_and_db_ids(gw)[1]


def test_a_replace_deletes_every_row_of_a_duplicated_key(gw: Rig) -> None:
    applied(gw)
    before = _add_second_db(gw)
    assert len(before) == 2
    applied(gw, "--replace", "dependency.db", "--allow-data-loss")
    _, after = _project_and_db_ids(gw)
    assert len(after) == 1 and after[0] not in before


@pytest.mark.parametrize("which", [0, 1])
def test_each_duplicate_delete_is_read_back(gw: Rig, which: int) -> None:
    applied(gw)
    ids = _add_second_db(gw)
    gw.tamper.swallow("DELETE", f"/api/v1/dependencies/{ID}/{ids[which]}", count=None)
    out = failed(gw, "--replace", "dependency.db", "--allow-data-loss")
    assert "dependency.db existence is still listed, expected deleted" in out


def test_a_database_that_fails_to_provision_stops_the_apply(gw: Rig) -> None:
    failed_ids: list[str] = []

    async def fail_every_database(_match: Any) -> None:
        _, ids = await asyncio.to_thread(_project_and_db_ids, gw)
        for dep in ids:
            await asyncio.to_thread(
                lambda dep=dep: httpx.post(
                    f"{gw.root_url}/_emulator/dependencies/{dep}/fail",
                    json={"reason": "disk full"},
                    timeout=30,
                ).raise_for_status()
            )
            failed_ids.append(dep)

    # The first status poll looks before creating (no row yet); the second is the wait.
    gw.tamper.before("GET", f"/api/v1/dependencies/status/{ID}", _nothing, count=1)
    gw.tamper.before("GET", f"/api/v1/dependencies/status/{ID}", fail_every_database, count=1)
    out = failed(gw)
    assert failed_ids, gw.tamper.fired()
    assert "dependency.db (postgres) failed to provision: disk full" in out
    assert gw.live().deployments == {}


def test_a_named_env_file_is_never_in_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = manifest().replace(
        "    env_policy:", "    env_files: [web/deploy.vars]\n    env_policy:"
    )
    with rig(tmp_path, monkeypatch, text) as r:
        (r.app_dir / "web" / "deploy.vars").write_text("UNUSED_TOKEN=abc123\n")
        out = applied(r)
        assert "source changed" not in out
        listed = r.odplan("package", "--list").output
        assert "left out as secrets, never uploaded (1): web/deploy.vars" in listed
