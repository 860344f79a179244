"""Racing applies: two `odplan apply --auto-approve` of one manifest started at the same moment
on a fresh project (two CI jobs, two checkouts, two homes), through the real CLI over real HTTP.

Each race must end with one database per name, both applies exiting 0 (the loser of a deploy
race waits for the winner's deployment instead of failing on its 409), and every service on
the database it started on: a third apply changes nothing about which database it uses.

Races run a few at a time (each on its own account, so the service quota is not shared) to keep
the wall time modest on a loaded machine."""

from __future__ import annotations

import asyncio
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from opendeploy_plan.gateway import GatewayClient
from opendeploy_plan.state.duplicates import users_of
from tests.e2e.apply_support import Odplan, RealGateway, describe, real_gateway

RACES = 20
AT_ONCE = 4
# Small on purpose (two services, two databases): the race is in the creates and the deploys.
MANIFEST = """\
version: 1
project:
  name: {project}
dependencies:
  db:
    type: postgres
  cache:
    type: redis
services:
  api:
    type: web
    source: api
    language: python
    port: 8080
    dockerfile: Dockerfile
    uses: [db, cache]
  worker:
    type: worker
    source: worker
    language: python
    dockerfile: Dockerfile
    uses: [db]
"""
# Which service uses which database.
USES = {"api/db", "api/cache", "worker/db"}


@dataclass
class Race:
    index: int
    project: str
    sides: tuple[Odplan, Odplan]


def write_app(root: Path, project: str) -> Path:
    for folder in ("api", "worker"):
        (root / folder).mkdir(parents=True)
        (root / folder / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
        (root / folder / "main.py").write_text(f"print('hello from {folder}')\n")
    manifest = root / "opendeploy.yaml"
    manifest.write_text(MANIFEST.format(project=project))
    return manifest


def _race_sides(gateway: RealGateway, root: Path, index: int) -> Race:
    token = gateway.emulator.mint_dashboard_token()
    project = f"race{index}"
    sides = []
    for side in ("a", "b"):
        home = root / f"race-{index}{side}" / "home"
        home.mkdir(parents=True)
        manifest = write_app(root / f"race-{index}{side}" / "app", project)
        sides.append(Odplan(gateway, home, manifest, extra_env={"OD_API_KEY": token}))
    return Race(index, project, (sides[0], sides[1]))


async def _databases_in_use(
    odplan: Odplan, project_name: str
) -> tuple[dict[str, int], dict[str, str]]:
    """(live databases per name, `{"service/name": id of the database its env points at}`)."""
    token = odplan.extra_env["OD_API_KEY"]
    async with GatewayClient(odplan.gateway.base_url, token) as client:
        project = await client.find_project_by_name(project_name)
        assert project is not None
        rows = (await client.dependency_status(project.id)).dependencies
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.display_name] = counts.get(row.display_name, 0) + 1
        envs = {
            s.name: (await client.get_env(project.id, s.id)).variables
            for s in await client.list_services(project.id)
        }
    uses = {}
    for name in counts:
        candidates = [(row.id, row.env_vars) for row in rows if row.display_name == name]
        uses.update({f"{svc}/{name}": i for svc, i in users_of(candidates, envs).items()})
    return counts, uses


def _both_apply(race: Race) -> list[subprocess.CompletedProcess[str]]:
    """Start both sides' `apply --auto-approve` at once; wait for both."""
    procs = [
        subprocess.Popen(
            side.argv("apply", "--auto-approve"),
            env=side.env,
            cwd=side.manifest.parent,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for side in race.sides
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def _run_race(race: Race) -> list[str]:
    """Problems found in one race (empty when it held)."""
    results = _both_apply(race)
    problems = [
        f"race {race.index}: an apply failed: {describe(result)}"
        for result in results
        if result.returncode != 0
    ]
    counts, before = asyncio.run(_databases_in_use(race.sides[0], race.project))
    if counts != {"db": 1, "cache": 1}:
        problems.append(f"race {race.index}: databases per name {counts}")
    if set(before) != USES:
        problems.append(f"race {race.index}: services on a live database: {sorted(before)}")
    # The apply after a race (where the duplicates used to move services onto the empty one).
    again = race.sides[1].apply()
    if again.returncode != 0:
        problems.append(f"race {race.index}: the next apply failed: {describe(again)}")
    counts, after = asyncio.run(_databases_in_use(race.sides[1], race.project))
    if after != before:
        problems.append(f"race {race.index}: services moved databases: {before} -> {after}")
    if counts != {"db": 1, "cache": 1}:
        problems.append(f"race {race.index}: after the next apply, databases per name {counts}")
    return problems


@pytest.mark.slow
def test_two_applies_at_once_leave_one_database_per_name_and_services_where_they_were(
    tmp_path: Path,
) -> None:
    with real_gateway() as gateway:
        races = [_race_sides(gateway, tmp_path, i) for i in range(RACES)]
        with ThreadPoolExecutor(AT_ONCE) as pool:
            problems = [p for found in pool.map(_run_race, races) for p in found]
    assert not problems, "\n\n".join(problems)


DOCUMENTED_RACES = 5
CONNECTIONS = ("DATABASE_URL", "REDIS_URL")


async def _connections(odplan: Odplan, project_name: str) -> dict[str, dict[str, str]]:
    """`{service: {DATABASE_URL/REDIS_URL: value}}`: where each service's env points."""
    token = odplan.extra_env["OD_API_KEY"]
    async with GatewayClient(odplan.gateway.base_url, token) as client:
        project = await client.find_project_by_name(project_name)
        assert project is not None
        return {
            s.name: {
                k: v
                for k, v in (await client.get_env(project.id, s.id)).variables.items()
                if k in CONNECTIONS
            }
            for s in await client.list_services(project.id)
        }


def _run_documented_race(race: Race) -> list[str]:
    """The documented profile: status rows are `{id, status}`, so a database race cannot be
    proven and both databases may stay. What must hold: no traceback, no misleading "name
    already exists" hint, and no service moved to another database by the next apply."""
    problems = []
    for result in _both_apply(race):
        text = result.stdout + result.stderr
        if "Traceback" in text or "A resource with this name already exists" in text:
            problems.append(f"race {race.index}: {describe(result)}")
    before = asyncio.run(_connections(race.sides[0], race.project))
    again = race.sides[1].apply()
    after = asyncio.run(_connections(race.sides[1], race.project))
    if after != before:
        problems.append(f"race {race.index}: a service moved databases: {describe(again)}")
    if "Traceback" in again.stdout + again.stderr:
        problems.append(f"race {race.index}: {describe(again)}")
    return problems


@pytest.mark.slow
def test_racing_applies_on_the_documented_gateway_never_move_a_service(tmp_path: Path) -> None:
    with real_gateway(profile="documented") as gateway:
        races = [_race_sides(gateway, tmp_path, i) for i in range(DOCUMENTED_RACES)]
        with ThreadPoolExecutor(AT_ONCE) as pool:
            problems = [p for found in pool.map(_run_documented_race, races) for p in found]
    assert not problems, "\n\n".join(problems)
