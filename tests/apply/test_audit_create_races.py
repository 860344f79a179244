"""Creates that meet a resource another apply made a moment ago (mutation audit, issue 19).

Project and service names are unique on the platform: a create that loses the race gets a 409
or, when its answer is lost, finds the row by name. Either way the winner's row is adopted, or,
when it cannot be adopted safely, apply stops with a reason a person can act on. Real HTTP
against the local gateway (tests/apply/rig.py); the other apply is a second client on the same
emulator, run just before this apply's create reaches it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from opendeploy_plan.gateway import GatewayClient
from tests.apply.rig import Rig, rig
from tests.apply.test_handler_promises import ID, applied, assert_one_of_each, failed, manifest


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, manifest()) as the_rig:
        yield the_rig


def test_a_project_created_by_another_apply_meanwhile_is_adopted_on_409(gw: Rig) -> None:
    """The 409 on `POST /v1/projects/` means "the name exists": look it up and adopt it, do not
    fail with the guest one-project hint."""

    async def another_apply_creates_the_project(_match: Any) -> None:
        transport = httpx.ASGITransport(app=gw.tamper.app)
        async with GatewayClient("http://gateway/api", gw.token, transport=transport) as client:
            await client.create_project("tiny", region_id=(await client.active_region()).id)

    gw.tamper.before("POST", "/api/v1/projects/", another_apply_creates_the_project)
    out = applied(gw)
    assert gw.tamper.fired() and all(gw.tamper.fired().values())
    assert "one live project" not in out
    assert_one_of_each(gw)


def test_a_service_found_after_a_lost_answer_with_other_env_is_left_alone(gw: Rig) -> None:
    """A service apply did not make itself (found by name after its create's answer was lost)
    whose env differs is another apply's: apply stops and says so instead of reporting a plain
    read-back mismatch (and never re-points it at other databases)."""

    def other_log_level(body: dict[str, Any]) -> dict[str, Any]:
        variables = {**(body.get("runtime_variables") or {}), "LOG_LEVEL": "debug"}
        return {**body, "runtime_variables": variables}

    gw.tamper.rewrite("POST", "/api/v1/projects/[^/]+/services/", other_log_level)
    route = "/api/v1/projects/{project_id}/services/"
    gw.add_fault(kind="lost_response", method="POST", route=route, count=1)
    out = failed(gw)
    assert "was just created by another apply running at the same time" in out, out
    assert "odplan left it as it is" in out
    assert "different value for LOG_LEVEL" in out
    assert "debug" not in out  # a value is never printed, only its key
    assert gw.live().services == {"web": 1}


def test_a_service_another_run_deleted_meanwhile_is_gone_not_unsupported(gw: Rig) -> None:
    """A 404 on `DELETE /v1/services/:id` while the service is no longer listed means it is
    gone already (another run deleted it): the replace goes on. Only a 404 while it is still
    listed means the gateway lacks the route."""
    applied(gw)

    async def another_run_deletes_it(match: Any) -> None:
        transport = httpx.ASGITransport(app=gw.tamper.app)
        async with GatewayClient("http://gateway/api", gw.token, transport=transport) as client:
            await client.delete_service(match["service"])

    gw.tamper.before("DELETE", f"/api/v1/services/(?P<service>{ID})", another_run_deletes_it)
    out = applied(gw, "--replace", "service.web")
    assert gw.tamper.fired() and all(gw.tamper.fired().values())
    assert "does not serve" not in out and "cannot delete" not in out.lower()
    assert gw.live().services == {"web": 1}
