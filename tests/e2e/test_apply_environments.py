"""One project, two environments: staging and production each have their own `api`, `db`…
with the same names. Whatever apply adopts after a lost response, or checks is gone after a
delete, is this environment's row, never the other's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.apply_support import Odplan, RealGateway, describe, real_gateway, write_shop

SERVICES = ("admin", "api", "worker")


@pytest.fixture
def staged(tmp_path: Path) -> Iterator[Odplan]:
    """The shop app applied to staging only."""
    home = tmp_path / "home"
    home.mkdir()
    with real_gateway() as gateway:
        odplan = Odplan(gateway, home, write_shop(tmp_path / "app"))
        applied = odplan.apply("-e", "staging")
        assert applied.returncode == 0, describe(applied)
        yield odplan


def _assert_both_environments_whole(odplan: Odplan) -> None:
    for environment in ("production", "staging"):
        planned = odplan.plan("--detailed-exitcode", "-e", environment)
        assert planned.returncode == 0, f"{environment}: {describe(planned)}"
        census = odplan.census("shop", environment)
        assert census.duplicates() == [], environment
        assert sorted(census.services.elements()) == list(SERVICES), environment
        assert sorted(census.dependencies.elements()) == ["cache", "db"], environment


def test_production_never_adopts_nor_deletes_the_staging_row_of_the_same_name(
    staged: Odplan,
) -> None:
    gateway: RealGateway = staged.gateway
    for route in (
        "/api/v1/dependencies/create",
        "/api/v1/projects/{project_id}/services/",
        "/api/v1/deployments/",
    ):
        gateway.add_fault(kind="lost_response", method="POST", route=route, count=1)

    applied = staged.apply()

    assert gateway.admin("GET", "/faults")["faults"] == [], "every lost response fired"
    assert applied.returncode == 0, describe(applied)
    production = staged.census("shop", "production")
    assert [production.successful(s) for s in SERVICES] == [1, 1, 1]

    # Deleting production's worker checks it is gone: staging's worker is still listed.
    replaced = staged.apply("--replace", "service.worker")

    assert replaced.returncode == 0, describe(replaced)
    assert "service.worker: done" in replaced.stderr
    _assert_both_environments_whole(staged)
