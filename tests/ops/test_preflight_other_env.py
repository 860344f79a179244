"""The plan-time subdomain check beside the project's other environment (second mutation audit,
issue 19; ops/preflight.py). The check takes a prefix, not an environment, so "taken" for a
prefix that a service *of the same name* holds in the other environment is only a warning; any
other answer stays an error: "reserved", and "taken" when the holder is another service, even
one whose name merely starts like this one's (`web-2` is not `web`).

`odplan plan` runs in-process against the local gateway over real HTTP (tests/apply/rig.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.apply.rig import Rig, rig

MANIFEST = """\
version: 1
project:
  name: twin
services:
  {name}:
    type: web
    source: web
    language: python
    port: 8080
    dockerfile: Dockerfile
    subdomain: twin-site
"""

CHECK = "/api/v1/service-domains/check-subdomain/twin-site"


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, MANIFEST.format(name="web")) as the_rig:
        yield the_rig


def _staging_holds_the_prefix(gw: Rig, name: str) -> None:
    gw.write(MANIFEST.format(name=name))
    staged = gw.apply("-e", "staging")
    assert staged.exit_code == 0, staged.output
    gw.write(MANIFEST.format(name="web"))


def test_taken_by_the_same_service_in_the_other_environment_is_a_warning(gw: Rig) -> None:
    _staging_holds_the_prefix(gw, "web")

    result = gw.odplan("plan", "-e", "production")

    assert result.exit_code == 0, result.output
    assert "perhaps by service web of this project in the other environment" in result.output


def test_taken_by_a_service_whose_name_only_starts_the_same_is_an_error(gw: Rig) -> None:
    _staging_holds_the_prefix(gw, "web-2")

    result = gw.odplan("plan", "-e", "production")

    assert result.exit_code == 1, result.output
    assert "subdomain 'twin-site' is already taken" in result.output
    assert "other environment" not in result.output


def test_reserved_stays_an_error_beside_the_other_environment(gw: Rig) -> None:
    _staging_holds_the_prefix(gw, "web")
    gw.tamper.swallow("GET", CHECK, {"available": False, "reason": "reserved"}, count=None)

    result = gw.odplan("plan", "-e", "production")

    assert result.exit_code == 1, result.output
    assert "subdomain 'twin-site' is reserved by the platform" in result.output
    assert "other environment" not in result.output
