"""Issue 17, items 1 and 4, through the real CLI over real HTTP.

1. An empty secret (`export KEY=`, what CI does with a secret never configured) is an error
   naming the key and its manifest line, and never wipes the live value; an empty environment
   variable does not hide a `.env` value; `${{ secrets.NAME || '' }}` allows empty on purpose.
4. A saved plan's hashes are keyed by something the file does not hold, so the file alone
   cannot test guesses of a secret; apply still notices a changed secret, and a plan made with
   another key is refused as stale.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from opendeploy_plan.plan import DesiredValue
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


def _live_env(odplan: Odplan) -> dict[str, str]:
    async def go() -> dict[str, str]:
        async with odplan.client() as client:
            project = await client.find_project_by_name("shop")
            assert project is not None
            service = await client.find_service_by_name(project.id, "api")
            assert service is not None
            return dict((await client.get_env(project.id, service.id)).variables)

    return asyncio.run(go())


def _line_col_of(manifest: Path, needle: str) -> str:
    for number, line in enumerate(manifest.read_text().splitlines(), start=1):
        if needle in line:
            return f"{number}:{line.index(needle.split(':')[1].strip()) + 1}"
    raise AssertionError(needle)


def test_an_empty_secret_is_an_error_at_its_line_and_never_wipes_the_live_value(
    odplan: Odplan,
) -> None:
    assert odplan.apply().returncode == 0
    assert _live_env(odplan)["API_TOKEN"] == CANARY
    odplan.extra_env["SHOP_API_TOKEN"] = ""
    where = _line_col_of(odplan.manifest, "API_TOKEN: ${{")

    planned = odplan.plan()
    applied = odplan.apply()

    for result in (planned, applied):
        assert result.returncode == 1, describe(result)
        assert (
            f"{odplan.manifest}:{where}: error: services.api.env.API_TOKEN: "
            "secret SHOP_API_TOKEN is empty" in result.stderr
        ), describe(result)
        assert "|| ''" in result.stderr  # says how to allow empty on purpose
        assert "Traceback" not in result.stderr
    assert _live_env(odplan)["API_TOKEN"] == CANARY, "an empty secret must never reach the API"
    assert_no_canary([planned.stdout, planned.stderr, applied.stdout, applied.stderr])


def test_an_empty_environment_variable_does_not_hide_the_env_file(odplan: Odplan) -> None:
    (odplan.manifest.parent / ".env").write_text(f"SHOP_API_TOKEN={CANARY}\n")
    odplan.extra_env["SHOP_API_TOKEN"] = ""
    assert odplan.apply().returncode == 0

    assert _live_env(odplan)["API_TOKEN"] == CANARY
    again = odplan.plan("--detailed-exitcode")
    assert again.returncode == 0, describe(again)


def test_a_secret_written_with_an_empty_default_may_be_empty(odplan: Odplan) -> None:
    text = odplan.manifest.read_text()
    odplan.manifest.write_text(
        text.replace("${{ secrets.SHOP_API_TOKEN }}", "${{ secrets.SHOP_API_TOKEN || '' }}")
    )
    odplan.extra_env["SHOP_API_TOKEN"] = ""

    applied = odplan.apply()

    assert applied.returncode == 0, describe(applied)
    assert _live_env(odplan)["API_TOKEN"] == ""


def test_a_saved_plan_cannot_test_guesses_of_a_secret(odplan: Odplan, tmp_path: Path) -> None:
    planfile = tmp_path / "shop.plan"
    odplan.extra_env["SHOP_API_TOKEN"] = "123456"  # a guessable secret
    made = odplan.plan("--out", str(planfile))
    assert made.returncode == 0, describe(made)
    saved = json.loads(planfile.read_text())
    stored = saved["secret_hashes"]["service.api.env.API_TOKEN"]
    salt = bytes.fromhex(saved["salt"])

    # What an attacker holding only the file would try: every 6-digit value under the salt.
    # (A sample of guesses, the right one included, is enough to show none can match.)
    for guess in ("000000", "123455", "123456", "999999"):
        assert DesiredValue.secret("SHOP_API_TOKEN", guess).salted_hash(salt) != stored
    assert odplan.gateway.dashboard_token not in planfile.read_text()
    assert "key_check" in saved

    applied = odplan.run("apply", str(planfile))
    assert applied.returncode == 0, describe(applied)


def test_a_saved_plan_still_notices_a_changed_secret(odplan: Odplan, tmp_path: Path) -> None:
    planfile = tmp_path / "shop.plan"
    assert odplan.plan("--out", str(planfile)).returncode == 0
    odplan.extra_env["SHOP_API_TOKEN"] = "rotated-4c1d"

    refused = odplan.run("apply", str(planfile))

    assert refused.returncode == 1, describe(refused)
    assert "Saved plan is stale" in refused.stderr
    assert "SHOP_API_TOKEN" in refused.stderr
    assert "rotated-4c1d" not in refused.stdout + refused.stderr
    assert odplan.census("shop").projects == 0


def test_a_saved_plan_made_with_another_key_is_refused(odplan: Odplan, tmp_path: Path) -> None:
    planfile = tmp_path / "shop.plan"
    odplan.extra_env["OD_PLAN_KEY"] = "plan-job-key-0b5e8f3a9d7c41e2a6b8"
    assert odplan.plan("--out", str(planfile)).returncode == 0
    odplan.extra_env["OD_PLAN_KEY"] = "another-key-71c9e04f2b6a48d3b1aa"

    refused = odplan.run("apply", str(planfile))

    assert refused.returncode == 1, describe(refused)
    assert "made with another key" in refused.stderr
    assert odplan.census("shop").projects == 0

    legacy = json.loads(planfile.read_text())
    del legacy["key_check"]
    planfile.write_text(json.dumps(legacy))
    odplan.extra_env["OD_PLAN_KEY"] = "plan-job-key-0b5e8f3a9d7c41e2a6b8"
    old = odplan.run("apply", str(planfile))
    assert old.returncode == 1, describe(old)
    assert "older odplan" in old.stderr
    assert "Traceback" not in old.stderr
