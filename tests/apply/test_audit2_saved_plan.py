"""A saved plan for one environment is refused for another, by name (independent mutation
audit, issue 19): `odplan apply PLAN -e staging` of a production plan says "Saved plan is
stale: the plan is for production, not staging" and changes nothing. Real HTTP against the
local gateway, odplan in-process (tests/apply/rig.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.apply.rig import rig
from tests.apply.test_handler_promises import manifest


def test_a_production_plan_is_not_applied_to_staging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, manifest()) as r:
        planfile = tmp_path / "prod.plan"
        planned = r.odplan("plan", "--out", str(planfile))
        assert planned.exit_code == 0, planned.output
        result = r.odplan("apply", str(planfile), "-e", "staging")
        assert result.exit_code == 1, result.output
        assert "Saved plan is stale" in result.output
        assert "the plan is for production, not staging" in result.output
        assert r.live().projects == 0
