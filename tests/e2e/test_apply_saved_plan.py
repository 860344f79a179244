"""Applying a saved plan (`odplan plan --out FILE`, reviewed, then `odplan apply FILE`): it does
exactly what was reviewed, and is refused as "Saved plan is stale" (changing nothing) when the
live state or a secret value changed since it was made, naming what changed (a secret by its
name, never its value)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.apply_support import (
    CANARY,
    Odplan,
    RealGateway,
    assert_no_canary,
    describe,
    real_gateway,
    write_shop,
)


@pytest.fixture
def gateway() -> Iterator[RealGateway]:
    with real_gateway() as running:
        yield running


@pytest.fixture
def odplan(gateway: RealGateway, tmp_path: Path) -> Odplan:
    home = tmp_path / "home"
    home.mkdir()
    return Odplan(gateway, home, write_shop(tmp_path / "app"))


def _edit_live_env(odplan: Odplan, **changes: str) -> None:
    """Edit the api service's env through the public API, as someone in the dashboard would."""

    async def go() -> None:
        async with odplan.client() as client:
            project = await client.find_project_by_name("shop")
            assert project is not None
            service = await client.find_service_by_name(project.id, "api")
            assert service is not None
            live = dict((await client.get_env(project.id, service.id)).variables)
            await client.replace_env(project.id, service.id, {**live, **changes})

    asyncio.run(go())


def test_a_saved_plan_applies_what_was_reviewed(odplan: Odplan, tmp_path: Path) -> None:
    planfile = tmp_path / "shop.plan"
    saved = odplan.plan("--out", str(planfile))
    assert saved.returncode == 0, describe(saved)

    applied = odplan.run("apply", str(planfile))

    assert applied.returncode == 0, describe(applied)
    assert "https://shop-api.opendeploy.run" in applied.stdout
    planned = odplan.plan("--detailed-exitcode")
    assert planned.returncode == 0, describe(planned)
    assert odplan.census("shop").duplicates() == []
    assert CANARY.encode() not in planfile.read_bytes()
    assert_no_canary([saved.stdout, saved.stderr, applied.stdout, applied.stderr], odplan.home)


def test_live_drift_after_saving_makes_the_plan_stale(odplan: Odplan, tmp_path: Path) -> None:
    assert odplan.apply().returncode == 0
    _edit_live_env(odplan, LOG_LEVEL="debug")
    planfile = tmp_path / "shop.plan"
    assert odplan.plan("--out", str(planfile)).returncode == 0
    _edit_live_env(odplan, LOG_LEVEL="trace")
    before = odplan.census("shop")

    refused = odplan.run("apply", str(planfile))

    assert refused.returncode == 1, describe(refused)
    assert "Saved plan is stale" in refused.stderr
    assert "service.api.env" in refused.stderr
    assert "Traceback" not in refused.stderr
    after = odplan.census("shop")
    assert len(after.deployments) == len(before.deployments), "a stale plan must change nothing"


def test_a_changed_secret_makes_the_plan_stale_and_is_named_not_shown(
    odplan: Odplan, tmp_path: Path
) -> None:
    planfile = tmp_path / "shop.plan"
    assert odplan.plan("--out", str(planfile)).returncode == 0
    rotated = "rotated-value-9d41c2"
    odplan.extra_env["SHOP_API_TOKEN"] = rotated

    refused = odplan.run("apply", str(planfile))

    assert refused.returncode == 1, describe(refused)
    assert "Saved plan is stale" in refused.stderr
    assert "SHOP_API_TOKEN" in refused.stderr
    assert rotated not in refused.stdout + refused.stderr
    assert odplan.census("shop").projects == 0, "a stale plan must change nothing"


def test_a_saved_plan_carries_its_environment(odplan: Odplan, tmp_path: Path) -> None:
    """`plan -e staging --out F` then `apply F` applies to staging without repeating `-e`."""
    plan_file = tmp_path / "staging.plan"
    made = odplan.plan("-e", "staging", "--out", str(plan_file))
    assert made.returncode == 0, describe(made)
    applied = odplan.run("apply", str(plan_file))
    assert applied.returncode == 0, describe(applied)
    assert odplan.plan("-e", "staging", "--detailed-exitcode").returncode == 0
    refused = odplan.run("apply", str(plan_file), "-e", "production")
    assert refused.returncode == 1
    assert "Saved plan is stale" in refused.stderr


def test_a_corrupt_plan_file_is_a_clear_error(odplan: Odplan, tmp_path: Path) -> None:
    import json

    plan_file = tmp_path / "edited.plan"
    assert odplan.plan("--out", str(plan_file)).returncode == 0
    data = json.loads(plan_file.read_text())
    data["salt"] = "zz"
    plan_file.write_text(json.dumps(data))
    result = odplan.run("apply", str(plan_file))
    assert result.returncode == 1
    assert "cannot use the plan file" in result.stderr
    assert "Traceback" not in result.stderr
