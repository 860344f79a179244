"""A database whose credentials no service got yet (issue 19's audit, round 2).

The documented gateway shows a database's variables only in the answer that created it. An
apply that creates `db` and stops before any service holds them (`--target dependency.db`
here; a kill -9 or a failed service create does the same) leaves a database nobody can read
the variables of. The next apply must not create the services without `DATABASE_URL` and
call it a success: on the documented profile it deletes that database (nobody can have used
it) and creates it again; where the gateway shows the variables, it keeps it. Either way every
service that uses `db` ends with the same, real connection variables and the plan is empty."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.e2e.apply_support import PROFILES, Odplan, describe, real_gateway, write_shop

pytestmark = pytest.mark.timeout(300)


def _state(odplan: Odplan) -> tuple[list[str], dict[str, dict[str, str]]]:
    """(the live database ids, each service's live env)."""

    async def go() -> tuple[list[str], dict[str, dict[str, str]]]:
        async with odplan.client() as client:
            project = await client.find_project_by_name("shop")
            assert project is not None
            status = await client.dependency_status(project.id)
            envs = {
                s.name: dict((await client.get_env(project.id, s.id)).variables)
                for s in await client.list_services(project.id)
            }
            return [d.id for d in status.dependencies], envs

    return asyncio.run(go())


def _hint(odplan: Odplan, key: str) -> object:
    data = json.loads((odplan.manifest.parent / ".opendeploy" / "dependencies.json").read_text())
    return data["shop"]["production"].get(key)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_database_created_before_any_service_got_its_credentials(
    profile: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with real_gateway(profile=profile, auto_domain_delay_seconds=0.0) as gateway:
        odplan = Odplan(gateway, home, write_shop(tmp_path / "app"))
        first = odplan.apply("--target", "dependency.db")
        assert first.returncode == 0, describe(first)
        [first_db], _ = _state(odplan)
        # Created, credentials only in that run's memory: the hint keeps the intent and the id.
        assert _hint(odplan, "db") == {
            "creating": "postgres",
            "since": _hint_since(odplan),
            "id": first_db,
        }

        second = odplan.apply()
        assert second.returncode == 0, describe(second)
        databases, envs = _state(odplan)
        urls = {name: env.get("DATABASE_URL") for name, env in envs.items() if name != "admin"}
        assert set(urls) == {"api", "worker"}
        assert None not in urls.values(), urls
        assert urls["api"] == urls["worker"], "both services use the same, one database"
        assert len(databases) == 2  # db and cache, nothing left over
        if profile == "documented":
            assert first_db not in databases, "the unreadable database was recreated"
            assert "stopped before any service got the credentials of" in second.stderr
        else:
            assert first_db in databases, "a database whose variables can be read is kept"
        assert isinstance(_hint(odplan, "db"), str), "handed: the hint is a plain id now"

        planned = odplan.plan("--detailed-exitcode")
        assert planned.returncode == 0, describe(planned)


@pytest.mark.parametrize("profile", PROFILES)
def test_status_and_destroy_still_see_a_database_no_service_got(
    profile: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with real_gateway(profile=profile, auto_domain_delay_seconds=0.0) as gateway:
        odplan = Odplan(gateway, home, write_shop(tmp_path / "app"))
        assert odplan.apply("--target", "dependency.db").returncode == 0
        status = odplan.run("status")
        assert status.returncode == 0, describe(status)
        assert "db" in status.stdout
        destroyed = odplan.run("destroy", "--auto-approve", "--allow-data-loss")
        assert destroyed.returncode == 0, describe(destroyed)
        assert "dependency.db" in destroyed.stdout + destroyed.stderr
        census = odplan.census("shop")
        assert census.projects == 0 and not census.dependencies, census


def _hint_since(odplan: Odplan) -> object:
    value = _hint(odplan, "db")
    assert isinstance(value, dict)
    return value.get("since")
