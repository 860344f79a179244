"""Waiting for a new database (dependency.md: poll the status until `running`): one still
provisioning when apply's wait (15 min, shortened here) ends fails naming its state; one that
vanishes from the status while awaited fails the existence read-back. Nothing else goes on as
if the database were there: the service that uses it is not created. And a create the gateway
refused leaves no pending intent behind.

`odplan apply` runs in-process against a local gateway over real HTTP (tests/apply/rig.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.apply.handlers import dependency
from opendeploy_plan.state.hints import read_pending_creates
from tests.apply.rig import ONE_DB, rig

STATUS = "/api/v1/dependencies/status/[^/]+"


@pytest.mark.parametrize("profile", ["default", "documented"])
def test_a_database_still_provisioning_when_the_wait_ends_fails_naming_its_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str
) -> None:
    monkeypatch.setattr(dependency, "READY_TIMEOUT", 1.0)
    with rig(tmp_path, monkeypatch, ONE_DB, profile=profile, dependency_ready_seconds=120) as gw:
        result = gw.apply()
        assert result.exit_code == 1, result.output
        assert "dependency.db is still " in result.output
        assert gw.live().services == {}, result.output


@pytest.mark.parametrize("profile", ["default", "documented"])
def test_a_database_gone_from_the_status_while_awaited_fails_the_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str
) -> None:
    with rig(tmp_path, monkeypatch, ONE_DB, profile=profile) as gw:

        async def then_the_status_loses_it(match: object) -> None:
            gw.tamper.swallow("GET", STATUS, {"dependencies": []}, count=None)

        gw.tamper.before("POST", "/api/v1/dependencies/create", then_the_status_loses_it)
        result = gw.apply()
        assert result.exit_code == 1, result.output
        assert "dependency.db existence is missing, expected present" in result.output
        assert gw.live().services == {}, result.output


@pytest.mark.parametrize("profile", ["default", "documented"])
def test_a_refused_create_leaves_no_pending_intent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str
) -> None:
    # The intent ("creating db now") is written before the create is sent, so a lost answer
    # can be named later; a create the gateway refused made nothing, and its intent goes.
    with rig(tmp_path, monkeypatch, ONE_DB, profile=profile) as gw:
        gw.tamper.rewrite(
            "POST", "/api/v1/dependencies/create", lambda body: {**body, "dependency_id": "oracle"}
        )
        refused = gw.apply()
        assert refused.exit_code == 1, refused.output
        assert gw.tamper.fired()["rewrite POST /api/v1/dependencies/create"] == 1
        assert read_pending_creates(gw.app_dir, "tiny", "production") == {}
        assert gw.live().dependencies == {}

        again = gw.apply()
        assert again.exit_code == 0, again.output
        # The documented gateway shows no database name: its one row counts under "".
        assert gw.live().dependencies == ({"db": 1} if profile == "default" else {"": 1})
        assert read_pending_creates(gw.app_dir, "tiny", "production") == {}
