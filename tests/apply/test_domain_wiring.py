"""A public service's auto domain row comes a little after its deployment succeeds; when
ingress wiring is slower than apply's wait (30 s, shortened here), the deployment still
succeeded: apply says the domain is not wired yet and prints no URL it cannot show, and exits
0. A subdomain rename needs that row: it fails, saying why and what to do.

`odplan apply` runs in-process against a local gateway over real HTTP (tests/apply/rig.py)
whose auto domain appears only after two minutes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opendeploy_plan.apply.handlers import domain
from tests.apply.rig import Rig, rig
from tests.apply.test_handler_promises import manifest

# The shared tiny project (tests/apply/test_handler_promises.py), without its subdomain: no
# rename, only the wait for the auto domain.
NO_RENAME = manifest().replace("    subdomain: tiny-web\n", "")


@pytest.fixture(params=["default", "documented"])
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    monkeypatch.setattr(domain, "ROW_TIMEOUT", 1.0)
    with rig(
        tmp_path, monkeypatch, NO_RENAME, profile=request.param, auto_domain_delay_seconds=120
    ) as the_rig:
        yield the_rig


def test_slow_ingress_is_reported_not_failed(gw: Rig) -> None:
    result = gw.apply()
    assert result.exit_code == 0, result.output
    assert "deployed; its auto domain is not wired yet" in result.output
    assert "https://" not in result.output


def test_a_rename_without_the_auto_domain_fails_saying_what_to_do(gw: Rig) -> None:
    gw.write(manifest())
    result = gw.apply()
    assert result.exit_code == 1, result.output
    assert "the deployment succeeded but its auto domain did not appear within 1 s" in result.output
    assert "run `odplan apply` again in a minute to rename it" in result.output
