"""Racing applies, one moment at a time: another apply's create lands just before ours (the
`Tamper` of tests/apply/rig.py runs it inside our request), against a local gateway over real
HTTP, odplan in-process.

* A database: ours is the later of two with one name and nothing uses it yet, so ours is
  deleted and the other adopted; the service ends on the one database left.
* A deployment: ours gets the 409 "a deployment is already in progress" with `deployment_id`;
  apply waits for that deployment, then deploys its own change, and exits 0.

The pure rule that tells which database a service uses (`state.duplicates`) is tested in
tests/unit/test_duplicates.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.apply.rig import ONE_DB, Rig, deploy_by_someone_else, rig

ID = "[^/]+"


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, ONE_DB) as the_rig:
        yield the_rig


def test_our_later_database_is_deleted_and_the_other_applys_adopted(gw: Rig) -> None:
    twins: list[str] = []

    async def another_apply_creates_db_first(match: Any) -> None:
        async with gw.inside() as client:
            project = (await client.find_project_by_name("tiny")) or None
            assert project is not None
            made = await client.create_dependency(
                project.id, "postgres", environment="production", display_name="db"
            )
            twins.append(made.env_vars["DATABASE_URL"])

    gw.tamper.before("POST", "/api/v1/dependencies/create", another_apply_creates_db_first)
    result = gw.apply()
    assert result.exit_code == 0, result.output
    assert "another apply created 'db' at the same time" in result.output
    live = gw.live()
    assert live.dependencies == {"db": 1}, live
    assert live.env["web"]["DATABASE_URL"] == twins[0]
    again = gw.odplan("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_a_deploy_that_loses_the_race_waits_for_the_winner_and_deploys(gw: Rig) -> None:
    other: list[str] = []

    async def another_apply_deploys_first(match: Any) -> None:
        async with gw.inside() as client:
            other.append(await deploy_by_someone_else(client))

    gw.tamper.before("POST", "/api/v1/deployments/", another_apply_deploys_first)
    result = gw.apply()
    assert result.exit_code == 0, result.output
    assert f"deployment {other[0]} is in progress: waiting for it" in result.output
    # The other deployment built another change: ours was deployed after it.
    assert gw.live().deployments == {"web": 2}
    again = gw.odplan("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def _set_database_url(gw: Rig, change: Any) -> None:
    async def go() -> None:
        async with gw.client() as client:
            project = await client.find_project_by_name("tiny")
            assert project is not None
            service = (await client.list_services(project.id))[0]
            env = dict((await client.get_env(project.id, service.id)).variables)
            env["DATABASE_URL"] = change(env["DATABASE_URL"])
            await client.replace_env(project.id, service.id, env)

    asyncio.run(go())


def test_a_service_on_another_database_is_not_re_pointed_without_allow_data_loss(
    gw: Rig,
) -> None:
    assert gw.apply().exit_code == 0
    _set_database_url(gw, lambda url: url.replace("@postgres-", "@elsewhere-"))
    refused = gw.odplan("plan")
    assert refused.exit_code == 1, refused.output
    text = " ".join(refused.output.split())
    assert "service.web's DATABASE_URL point at another database than dependency.db" in text
    assert "elsewhere" not in refused.output  # key names only, never a value
    allowed = gw.odplan("plan", "--allow-data-loss")
    assert allowed.exit_code == 0, allowed.output


def test_a_new_password_on_the_same_database_is_not_a_move(gw: Rig) -> None:
    assert gw.apply().exit_code == 0
    _set_database_url(gw, lambda url: url.replace("://opendeploy:", "://opendeploy:x"))
    planned = gw.odplan("plan")
    assert planned.exit_code == 0, planned.output
    assert "another database" not in planned.output
