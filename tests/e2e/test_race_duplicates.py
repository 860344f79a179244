"""Two live databases with one name, left by a race the API could not prevent: odplan manages
the one the services' injected env points at (not the first listed), says how to delete the
other, and never re-points a service onto another database without --allow-data-loss.

Through the real CLI over real HTTP; the duplicate is made through the public API, and the
services are pointed at the *later* one, as the races of issue 17 left them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from opendeploy_plan.gateway import GatewayClient
from tests.e2e.apply_support import Odplan, RealGateway, describe, real_gateway
from tests.e2e.test_race_apply import write_app


def _odplan(gateway: RealGateway, tmp_path: Path) -> Odplan:
    home = tmp_path / "home"
    home.mkdir()
    return Odplan(gateway, home, write_app(tmp_path / "app", "twins"))


async def _twin_db(client: GatewayClient, point: tuple[str, ...]) -> tuple[str, str, str]:
    """Add a second `db` and point the services `point` at it; (project id, first, twin)."""
    project = await client.find_project_by_name("twins")
    assert project is not None
    rows = (await client.dependency_status(project.id)).dependencies
    first = next(d for d in rows if d.display_name == "db")
    twin = await client.create_dependency(
        project.id, "postgres", environment="production", display_name="db"
    )
    for service in await client.list_services(project.id):
        if service.name in point:
            env = dict((await client.get_env(project.id, service.id)).variables)
            env.update({k: v for k, v in twin.env_vars.items() if k in env})
            await client.replace_env(project.id, service.id, env)
    return project.id, first.id, twin.id


async def _database_url(client: GatewayClient, service_name: str) -> str:
    project = await client.find_project_by_name("twins")
    assert project is not None
    service = next(s for s in await client.list_services(project.id) if s.name == service_name)
    return (await client.get_env(project.id, service.id)).variables["DATABASE_URL"]


async def _url_of(client: GatewayClient, project_id: str, dependency_id: str) -> str:
    rows = (await client.dependency_status(project_id)).dependencies
    return next(d for d in rows if d.id == dependency_id).env_vars["DATABASE_URL"]


def test_the_database_the_services_use_is_managed_and_the_orphan_reported(
    tmp_path: Path,
) -> None:
    with real_gateway() as gateway:
        odplan = _odplan(gateway, tmp_path)
        applied = odplan.apply()
        assert applied.returncode == 0, describe(applied)

        async def setup() -> tuple[str, str, str, str]:
            async with odplan.client() as client:
                project_id, first, twin = await _twin_db(client, ("api", "worker"))
                return project_id, first, twin, await _url_of(client, project_id, twin)

        project_id, first, twin, twin_url = asyncio.run(setup())

        planned = odplan.plan()
        shown = planned.stdout + planned.stderr
        assert planned.returncode == 0, describe(planned)
        assert "DATABASE_URL" not in shown, shown  # no service is re-pointed
        assert f"odplan manages {twin}" in shown, shown
        assert f"leaves {first} alone" in shown
        assert f"DELETE /v1/dependencies/{project_id}/{first}" in shown

        again = odplan.apply()
        assert again.returncode == 0, describe(again)

        async def urls() -> list[str]:
            async with odplan.client() as client:
                return [await _database_url(client, name) for name in ("api", "worker")]

        assert asyncio.run(urls()) == [twin_url, twin_url]


def test_services_split_across_two_databases_are_not_re_pointed_without_allow_data_loss(
    tmp_path: Path,
) -> None:
    with real_gateway() as gateway:
        odplan = _odplan(gateway, tmp_path)
        applied = odplan.apply()
        assert applied.returncode == 0, describe(applied)

        async def setup() -> tuple[str, str, str]:
            async with odplan.client() as client:
                return await _twin_db(client, ("api",))

        _, first, twin = asyncio.run(setup())

        refused = odplan.apply()
        shown = refused.stdout + refused.stderr
        assert refused.returncode == 1, describe(refused)
        # A tie (one service each): the oldest is managed, and api would move off the twin.
        assert (
            f"service.api uses database {twin}, a second live 'db'; applying would point it "
            f"at {first}"
        ) in " ".join(shown.split()), shown
        assert "--allow-data-loss" in shown

        allowed = odplan.plan("--allow-data-loss")
        assert allowed.returncode == 0, describe(allowed)
        assert f"service.api uses database {twin}" in " ".join(allowed.stdout.split()) + " ".join(
            allowed.stderr.split()
        )
