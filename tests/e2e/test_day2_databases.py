"""Databases in `status` and `destroy` (issue 16 items 7 and 8, issue 14 leftovers), through the
real CLI over real HTTP: status lists each database by its manifest name (also against the
documented profile, whose rows carry no name, and with `--project` and no manifest, from the
hint file), also the ones `destroy` kept; `destroy --allow-data-loss` shows each database as
its own line, counts it in the summary and deletes it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.apply_support import Odplan, RealGateway, describe, example_odplan, real_gateway


@pytest.fixture
def documented() -> Iterator[RealGateway]:
    with real_gateway(profile="documented", auto_domain_delay_seconds=0.0) as running:
        yield running


@pytest.fixture
def default() -> Iterator[RealGateway]:
    with real_gateway(auto_domain_delay_seconds=0.0) as running:
        yield running


def _databases(result_stdout: str) -> dict[str, dict[str, str]]:
    return {d["name"]: d for d in json.loads(result_stdout)["databases"]}


def test_status_names_databases_against_the_documented_gateway(
    documented: RealGateway, tmp_path: Path
) -> None:
    odplan = example_odplan(documented, tmp_path, "fastapi-postgres-redis")
    assert odplan.apply().returncode == 0

    with_manifest = odplan.run("status", "--json")
    assert with_manifest.returncode == 0, describe(with_manifest)
    databases = _databases(with_manifest.stdout)
    assert sorted(databases) == ["cache", "db"]
    assert databases["db"]["type"] == "postgres"
    assert databases["db"]["sync"] == "in sync"
    assert json.loads(with_manifest.stdout)["unmanaged_dependencies"] == []
    service = json.loads(with_manifest.stdout)["services"][0]
    assert service["serving_id"] == service["deployment_id"]

    # No manifest: the project by name, the names from the hint file of this folder.
    by_project = odplan.run("status", "--project", "fastapi-shortener", "--json")
    assert by_project.returncode == 0, describe(by_project)
    assert sorted(_databases(by_project.stdout)) == ["cache", "db"]

    plain = odplan.run("status")
    assert "DATABASE" in plain.stdout
    assert "dependency." not in plain.stdout


def test_destroy_keeps_databases_status_shows_them_then_data_loss_lists_each(
    default: RealGateway, tmp_path: Path
) -> None:
    odplan: Odplan = example_odplan(default, tmp_path, "fastapi-postgres-redis")
    assert odplan.apply().returncode == 0

    kept = odplan.run("destroy", "--auto-approve")
    assert kept.returncode == 0, describe(kept)
    assert "kept: the project, dependency.cache, dependency.db" in kept.stdout

    status = odplan.run("status", "--json")
    assert status.returncode == 0, describe(status)
    assert sorted(_databases(status.stdout)) == ["cache", "db"]
    assert json.loads(status.stdout)["services"][0]["status"] == "not created"

    gone = odplan.run("destroy", "--auto-approve", "--allow-data-loss")
    assert gone.returncode == 0, describe(gone)
    assert "- dependency.db\n" in gone.stdout
    assert "- dependency.cache\n" in gone.stdout
    assert "Plan: 0 to create, 0 to update, 3 to destroy" in gone.stdout  # db, cache, project
    census = odplan.census("fastapi-shortener")
    assert census.projects == 0 and not census.dependencies
