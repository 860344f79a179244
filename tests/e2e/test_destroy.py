"""`odplan destroy` end to end: what it deletes, what it keeps, and that plan sees it after.

Issue 9's acceptance: destroy then plan shows everything to create; a database survives
destroy without `--allow-data-loss`. Real uvicorn on 127.0.0.1, odplan as a child process.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from opendeploy_plan.gateway import GatewayClient
from tests.conftest import run_on_a_tty
from tests.e2e.apply_support import (
    CANARY,
    SECRET_NAMES,
    Odplan,
    RealGateway,
    copy_example,
    describe,
    example_odplan,
    real_gateway,
)

PROJECT = "fastapi-shortener"


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Odplan]:
    """The FastAPI + postgres + redis example, applied once."""
    with real_gateway() as gateway:
        home = tmp_path / "home"
        home.mkdir()
        odplan = Odplan(gateway, home, copy_example("fastapi-postgres-redis", tmp_path / "app"))
        applied = odplan.apply()
        assert applied.returncode == 0, describe(applied)
        yield odplan


def live(gateway: RealGateway) -> dict[str, object]:
    """Project, its service names and its databases (id, status), read through the API."""

    async def go() -> dict[str, object]:
        async with GatewayClient(gateway.base_url, gateway.dashboard_token) as client:
            project = await client.find_project_by_name(PROJECT)
            if project is None:
                return {"project": None}
            services = await client.list_services(project.id)
            deps = await client.dependency_status(project.id)
            return {
                "project": project.id,
                "services": sorted(s.name for s in services),
                "databases": sorted((d.display_name, d.id, d.status) for d in deps.dependencies),
            }

    return asyncio.run(go())


def test_destroy_keeps_the_project_and_its_databases_by_default(deployed: Odplan) -> None:
    before = live(deployed.gateway)
    assert before["services"] == ["api"]

    destroyed = deployed.run("destroy", "--auto-approve")
    assert destroyed.returncode == 0, describe(destroyed)
    assert "kept: the project, dependency.cache, dependency.db" in destroyed.stdout
    assert "Destroy complete: 1 succeeded, 0 failed, 0 skipped." in destroyed.stderr

    after = live(deployed.gateway)
    assert after["project"] == before["project"]
    assert after["services"] == []
    assert after["databases"] == before["databases"]  # same ids, still running: data survives

    planned = deployed.plan("--detailed-exitcode")
    assert planned.returncode == 2, describe(planned)
    assert "+ service.api\n" in planned.stdout
    assert "+ dependency.db" not in planned.stdout and "+ project\n" not in planned.stdout

    reapplied = deployed.apply()
    assert reapplied.returncode == 0, describe(reapplied)
    assert deployed.plan("--detailed-exitcode").returncode == 0


def test_destroy_with_allow_data_loss_removes_everything(deployed: Odplan) -> None:
    # Destroy needs no secret's value: an empty one (a CI job without them) does not stop it.
    without_secrets = replace(deployed, extra_env={name: "" for name in SECRET_NAMES})
    destroyed = without_secrets.run("destroy", "--auto-approve", "--allow-data-loss")
    assert destroyed.returncode == 0, describe(destroyed)
    assert live(deployed.gateway) == {"project": None}

    planned = deployed.plan("--detailed-exitcode")
    assert planned.returncode == 2, describe(planned)
    for address in ("+ project\n", "+ dependency.db\n", "+ dependency.cache\n", "+ service.api\n"):
        assert address in planned.stdout
    for output in (destroyed.stdout, destroyed.stderr, planned.stdout, deployed.audit_text()):
        assert CANARY not in output


def test_destroy_without_a_terminal_or_approval_changes_nothing(deployed: Odplan) -> None:
    before = live(deployed.gateway)
    refused = deployed.run("destroy", "--allow-data-loss")
    assert refused.returncode == 1, describe(refused)
    assert "refusing to destroy without confirmation" in refused.stderr
    assert live(deployed.gateway) == before


def test_destroy_asks_for_the_whole_project_name_on_a_terminal(deployed: Odplan) -> None:
    before = live(deployed.gateway)
    argv = deployed.argv("destroy", "--allow-data-loss")
    cwd = deployed.manifest.parent
    for answer in ("", PROJECT[:7], f"{PROJECT}-x", PROJECT.upper()):
        refused = run_on_a_tty(argv, deployed.env, answer, cwd=cwd)
        assert refused.returncode == 1, (answer, describe(refused))
        assert f"Type the project name ({PROJECT}) to confirm" in refused.stderr
        assert "Destroy cancelled: the name did not match." in refused.stderr
        assert live(deployed.gateway) == before, answer

    confirmed = run_on_a_tty(argv, deployed.env, f"  {PROJECT} ", cwd=cwd)
    assert confirmed.returncode == 0, describe(confirmed)
    assert live(deployed.gateway) == {"project": None}


def test_destroy_of_a_missing_project_is_a_no_op(tmp_path: Path) -> None:
    with real_gateway() as gateway:
        home = tmp_path / "home"
        home.mkdir()
        odplan = Odplan(gateway, home, copy_example("static-site", tmp_path / "app"))
        result = odplan.run("destroy", "--auto-approve")
        assert result.returncode == 0, describe(result)
        assert "No changes." in result.stdout


def test_destroying_one_environment_never_deletes_the_other(tmp_path: Path) -> None:
    """The platform's project delete takes every environment: with production in the same
    project, `destroy -e staging --allow-data-loss` deletes staging's services and databases
    only, and keeps the project (found in review)."""
    from tests.e2e.apply_support import write_shop

    with real_gateway() as gateway:
        home = tmp_path / "home"
        home.mkdir()
        odplan = Odplan(gateway, home, write_shop(tmp_path / "app"))
        for environment in ("production", "staging"):
            applied = odplan.apply("-e", environment)
            assert applied.returncode == 0, describe(applied)

        destroyed = odplan.run("destroy", "-e", "staging", "--auto-approve", "--allow-data-loss")
        assert destroyed.returncode == 0, describe(destroyed)
        assert "kept: the project, which also holds" in destroyed.stdout
        assert "- project\n" not in destroyed.stdout

        production = odplan.plan("-e", "production", "--detailed-exitcode")
        assert production.returncode == 0, describe(production)
        staging = odplan.plan("-e", "staging", "--detailed-exitcode")
        assert staging.returncode == 2, describe(staging)
        assert "+ dependency.db\n" in staging.stdout  # staging's database is gone, for real


def test_destroy_and_status_work_when_the_source_folder_is_gone(tmp_path: Path) -> None:
    """Tearing down an app whose code is already gone must work: destroy only needs names."""
    with real_gateway() as gateway:
        odplan = example_odplan(gateway, tmp_path, "static-site")
        assert odplan.apply().returncode == 0
        shutil.rmtree(odplan.manifest.parent / "public")  # the service's source folder
        planned = odplan.plan()
        assert planned.returncode == 1 and "does not exist" in planned.stderr, describe(planned)
        status = odplan.run("status")  # shows the live rows; cannot compare the source
        assert status.returncode == 0, describe(status)
        assert "does not exist" in status.stderr and "site" in status.stdout, describe(status)

        destroyed = odplan.run("destroy", "--auto-approve")
        assert destroyed.returncode == 0, describe(destroyed)
        assert "Destroy complete: 1 succeeded, 0 failed, 0 skipped." in destroyed.stderr


@pytest.mark.parametrize("flags", [(), ("--allow-data-loss",)])
def test_against_the_documented_gateway_destroy_fails_naming_what_to_do_by_hand(
    flags: tuple[str, ...], tmp_path: Path
) -> None:
    """`DELETE /v1/services/:id` is in no document (docs/emulator.md): against a gateway that
    lacks it, destroy stops with the operation it cannot do and the manual way, never a
    traceback nor a false success; the project and its databases are still there."""
    with real_gateway(profile="documented") as gateway:
        home = tmp_path / "home"
        home.mkdir()
        odplan = Odplan(gateway, home, copy_example("fastapi-postgres-redis", tmp_path / "app"))
        assert odplan.apply().returncode == 0
        before = live(gateway)

        destroyed = odplan.run("destroy", "--auto-approve", *flags)

        assert destroyed.returncode == 1, describe(destroyed)
        assert "does not support deleting a service through the API" in destroyed.stderr
        assert "by hand in the dashboard" in destroyed.stderr
        # The way out is destroy's own: no `--prune` advice to a command that has no such flag.
        assert "then run `odplan destroy` again" in destroyed.stderr, describe(destroyed)
        assert "--prune" not in destroyed.stderr, describe(destroyed)
        assert "Traceback" not in destroyed.stderr
        assert "Destroy complete" not in destroyed.stderr
        after = live(gateway)
        assert after["project"] == before["project"]
        assert after["databases"] == before["databases"]
