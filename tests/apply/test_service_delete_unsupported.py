"""`DELETE /v1/services/:id` is not in the platform's documents: against a gateway that answers
it 404 while the service is still listed, odplan never claims the service is gone. Each of the
three ways to ask for a delete fails naming the service and the way out that fits it: a type
change's replacement, a prune, a destroy. A gateway that does have the route but keeps the
service fails the read-back instead.

`odplan` runs in-process against a local gateway over real HTTP (tests/apply/rig.py), the
documented-minimum profile for the 404."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.apply.rig import Rig, rig

TWO = """\
version: 1
project:
  name: tiny
services:
  web:
    type: {web_type}
    source: web
    language: python
    dockerfile: Dockerfile
{extra}"""
WORKER = """\
  jobs:
    type: worker
    source: web
    language: python
    dockerfile: Dockerfile
"""


def _manifest(web_type: str = "worker", jobs: bool = True) -> str:
    return TWO.format(web_type=web_type, extra=WORKER if jobs else "")


@pytest.fixture
def documented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    with rig(tmp_path, monkeypatch, _manifest(), profile="documented") as gw:
        first = gw.apply()
        assert first.exit_code == 0, first.output
        yield gw


def test_a_prune_names_the_service_and_how_to_leave_it_out(documented: Rig) -> None:
    documented.write(_manifest(jobs=False))
    result = documented.apply("--prune")
    assert result.exit_code == 1, result.output
    assert "cannot delete service jobs: the gateway does not support deleting" in result.output
    assert "(run without `--prune`, or with `--exclude service.jobs`)" in result.output
    assert documented.live().services == {"web": 1, "jobs": 1}


def test_a_replacement_names_the_change_that_forces_it(documented: Rig) -> None:
    documented.write(_manifest(web_type="web"))
    result = documented.apply()
    assert result.exit_code == 1, result.output
    assert "cannot replace service web: the gateway does not support deleting" in result.output
    assert "undo the manifest change that forces the replacement" in result.output
    assert documented.live().services == {"web": 1, "jobs": 1}


def test_a_destroy_says_to_delete_by_hand_and_destroy_again(documented: Rig) -> None:
    result = documented.odplan("destroy", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "cannot delete service jobs: the gateway does not support deleting" in result.output
    assert "then run `odplan destroy` again for what is left" in result.output
    assert documented.live().services == {"web": 1, "jobs": 1}


def test_a_delete_the_gateway_answers_but_does_not_keep_fails_the_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, _manifest()) as gw:
        first = gw.apply()
        assert first.exit_code == 0, first.output
        gw.tamper.swallow("DELETE", "/api/v1/services/[^/]+", count=None)
        gw.write(_manifest(jobs=False))
        result = gw.apply("--prune")
        assert result.exit_code == 1, result.output
        assert "service.jobs existence is still listed, expected deleted" in result.output
        assert gw.live().services == {"web": 1, "jobs": 1}
