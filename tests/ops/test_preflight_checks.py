"""Plan-time checks against the gateway (mutation audit, issue 19; ops/preflight.py), through
`odplan plan` over real HTTP: the one-project cap is a guest's only (an account may hold many
projects), and a check-subdomain route that keeps failing is a note, not a plan error.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from opendeploy_plan.gateway import GatewayClient
from tests.apply.rig import Rig, rig
from tests.apply.test_handler_promises import manifest
from tests.conftest import register_guest


@pytest.fixture(params=["default", "documented"])
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    with rig(tmp_path, monkeypatch, manifest(), profile=request.param) as the_rig:
        yield the_rig


def test_an_account_holding_another_project_may_plan_a_new_one(gw: Rig) -> None:
    async def other_project() -> None:
        async with gw.client() as client:
            await client.create_project("other", region_id=(await client.active_region()).id)

    asyncio.run(other_project())
    result = gw.odplan("plan")
    assert result.exit_code == 0, result.output
    assert "already holds project" not in result.output


def _as_guest(gw: Rig, monkeypatch: pytest.MonkeyPatch) -> str:
    key = register_guest(gw.base_url)
    monkeypatch.setenv("OD_API_KEY", key)
    return key


def test_a_guest_holding_another_project_cannot_plan_a_new_one(
    gw: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = _as_guest(gw, monkeypatch)
    alone = gw.odplan("plan")
    assert alone.exit_code == 0, alone.output  # holding nothing: the first project is fine

    async def first_app() -> None:
        async with GatewayClient(gw.base_url, key) as client:
            await client.create_project("first-app", region_id=(await client.active_region()).id)

    asyncio.run(first_app())
    result = gw.odplan("plan")
    assert result.exit_code == 1, result.output
    assert "this guest credential already holds project 'first-app'" in result.output
    assert "creating 'tiny' would be refused (409)" in result.output
    assert "Deploy as that project (project.name: first-app)" in result.output


def test_a_failing_subdomain_check_is_a_note_not_an_error(gw: Rig) -> None:
    gw.add_fault(
        kind="error",
        method="GET",
        route="/api/v1/service-domains/check-subdomain/{subdomain}",
        status=503,
    )
    result = gw.odplan("plan")
    assert result.exit_code == 0, result.output
    assert "could not check whether subdomain(s) tiny-web are free" in result.output
