"""What plan shows for injected dependency variables (issue 16 item 8), over real HTTP against
both gateway profiles: once the database exists, each key it injects is its own line by name
(`env.DATABASE_URL`, `env.POSTGRES_*`), its value masked, never `${{ dependencies.db.* }}`; and
against the documented profile (status rows without `env_vars`) one database's keys never show
up in a service that uses only another."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.apply_support import Odplan, RealGateway, describe, example_odplan, real_gateway


@pytest.fixture(params=["default", "documented"])
def gateway(request: pytest.FixtureRequest) -> Iterator[RealGateway]:
    with real_gateway(profile=request.param, auto_domain_delay_seconds=0.0) as running:
        yield running


def test_injected_keys_show_by_name_once_the_database_exists(
    gateway: RealGateway, tmp_path: Path
) -> None:
    odplan: Odplan = example_odplan(gateway, tmp_path, "fastapi-postgres-redis")
    fresh = odplan.plan()
    # Before the database exists its keys are not known: one line stands for them.
    assert "env.${{ dependencies.db.* }}" in fresh.stdout
    assert odplan.apply().returncode == 0

    document = yaml.safe_load(odplan.manifest.read_text())
    document["services"]["worker"] = {
        "type": "worker",
        "source": ".",
        "dockerfile": "Dockerfile",
        "uses": ["db"],
    }
    # The api now takes every cache variable through `uses:`: its live env holds both
    # databases' keys, the documented gateway's status rows hold neither.
    document["services"]["api"]["uses"] = ["db", "cache"]
    del document["services"]["api"]["env"]["REDIS_URL"]
    odplan.manifest.write_text(yaml.safe_dump(document, sort_keys=False))
    planned = odplan.plan("--detailed-exitcode")

    assert planned.returncode == 2, describe(planned)
    worker = planned.stdout.split("+ service.worker\n", 1)[1].split("\n\n", 1)[0]
    assert "${{ dependencies" not in planned.stdout
    for key in ("DATABASE_URL", "POSTGRES_HOST", "POSTGRES_PASSWORD", "POSTGRES_USER"):
        assert f"+ env.{key}" in worker, worker
    injected = [line for line in worker.splitlines() if "+ env." in line]
    assert all(line.rstrip().endswith("(sensitive value)") for line in injected), injected
    # The worker uses only the postgres: the redis's keys (which the api holds too) stay out.
    assert "REDIS" not in worker
