"""A lost database create that leaves two new rows nobody can name (independent mutation audit,
issue 19): on the documented profile (status rows `{id, status}`) a row that was not listed
before the create is ours only if it is the only one; with two, apply stops, names both and
deletes neither (it could be deleting another apply's database). Real HTTP, odplan in-process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from opendeploy_plan.gateway import GatewayClient
from tests.apply.rig import ONE_DB, Rig, rig
from tests.apply.test_lost_dependency_create import _truth

CREATE = "/api/v1/dependencies/create"


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, ONE_DB, profile="documented") as the_rig:
        yield the_rig


def test_two_new_unnamed_rows_after_a_lost_create_stop_the_apply(gw: Rig) -> None:
    others: list[str] = []

    async def someone_else_creates_one(match: Any) -> None:
        transport = httpx.ASGITransport(app=gw.tamper.app)
        async with GatewayClient("http://gateway/api", gw.token, transport=transport) as client:
            project = await client.find_project_by_name("tiny")
            assert project is not None
            made = await client.create_dependency(
                project.id, "postgres", environment="production", display_name="db"
            )
            others.append(made.id)
        # Only now: our create (next through the emulator) commits and loses its answer.
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as admin:
            fault = {"kind": "lost_response", "method": "POST", "route": CREATE, "count": 1}
            (await admin.post("/_emulator/faults", json=fault)).raise_for_status()

    gw.tamper.before("POST", CREATE, someone_else_creates_one)

    result = gw.apply()

    assert result.exit_code == 1, result.output
    assert "cannot tell which is which" in result.output
    assert others and others[0] in result.output
    assert len(_truth(gw)) == 2  # neither row was deleted: one of them is not ours
    assert gw.live().services == {}
