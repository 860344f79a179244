"""Racing applies, one moment at a time: another apply's create lands just before ours (the
`Tamper` of tests/apply/rig.py runs it inside our request), against a local gateway over real
HTTP, odplan in-process.

* A database: ours is the later of two with one name and nothing uses it yet, so ours is
  deleted and the other adopted; the service ends on the one database left.
* A deployment: ours gets the 409 "a deployment is already in progress" with `deployment_id`;
  apply waits for that deployment, then deploys its own change, and exits 0.

Plus the pure rule that tells which database a service uses (`state.duplicates`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from opendeploy_plan.gateway import GatewayClient
from opendeploy_plan.state.duplicates import choose, users_of
from tests.apply.rig import ONE_DB, Rig, deploy_by_someone_else, rig

ID = "[^/]+"


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, ONE_DB) as the_rig:
        yield the_rig


def _client(gw: Rig) -> GatewayClient:
    # Inside a request: talk to the emulator directly (the server is busy with ours).
    return GatewayClient(
        "http://gateway/api", gw.token, transport=httpx.ASGITransport(app=gw.tamper.app)
    )


def test_our_later_database_is_deleted_and_the_other_applys_adopted(gw: Rig) -> None:
    twins: list[str] = []

    async def another_apply_creates_db_first(match: Any) -> None:
        async with _client(gw) as client:
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
        async with _client(gw) as client:
            other.append(await deploy_by_someone_else(client))

    gw.tamper.before("POST", "/api/v1/deployments/", another_apply_deploys_first)
    result = gw.apply()
    assert result.exit_code == 0, result.output
    assert f"deployment {other[0]} is in progress: waiting for it" in result.output
    # The other deployment built another change: ours was deployed after it.
    assert gw.live().deployments == {"web": 2}
    again = gw.odplan("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


A = ("a", {"DATABASE_URL": "postgresql://u:pa@a:5432/shop", "POSTGRES_PORT": "5432"})
B = ("b", {"DATABASE_URL": "postgresql://u:pb@b:5432/shop", "POSTGRES_PORT": "5432"})


def test_a_service_uses_the_database_whose_own_values_it_carries() -> None:
    services = {
        "api": {"DATABASE_URL": "postgresql://u:pb@b:5432/shop", "POSTGRES_PORT": "5432"},
        "worker": {"POSTGRES_PORT": "5432"},  # a shared value names no one
    }
    assert users_of([A, B], services) == {"api": "b"}
    assert choose([A, B], services) == ("b", {})


def test_the_most_used_database_is_chosen_and_the_others_users_are_strays() -> None:
    on_a = {"DATABASE_URL": A[1]["DATABASE_URL"]}
    on_b = {"DATABASE_URL": B[1]["DATABASE_URL"]}
    assert choose([A, B], {"x": on_b, "y": on_b, "z": on_a}) == ("b", {"z": "a"})
    # A tie, or no user at all: the first listed (the oldest).
    assert choose([A, B], {"x": on_b, "z": on_a}) == ("a", {"x": "b"})
    assert choose([A, B], {}) == ("a", {})


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
