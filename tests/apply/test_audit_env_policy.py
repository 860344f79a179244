"""`env_policy: merge` at apply time for build variables too (mutation audit, issue 19): a
build variable set live (in the dashboard) survives an update of the manifest's `build_env`
under merge, and goes under replace. Real HTTP against the local gateway.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.apply.rig import Rig, rig
from tests.apply.test_audit_read_back import with_build_env
from tests.apply.test_handler_promises import applied


def _live_build_variables(r: Rig) -> dict[str, str]:
    async def go() -> dict[str, str]:
        async with r.client() as client:
            project = await client.find_project_by_name("tiny")
            assert project is not None
            service = await client.find_service_by_name(project.id, "web")
            assert service is not None
            return dict((await client.get_service(service.id)).build_variables)

    return asyncio.run(go())


def _set_live_build_variable(r: Rig, key: str, value: str) -> None:
    async def go() -> None:
        async with r.client() as client:
            project = await client.find_project_by_name("tiny")
            assert project is not None
            service = await client.find_service_by_name(project.id, "web")
            assert service is not None
            current = dict((await client.get_service(service.id)).build_variables)
            await client.update_service(service.id, {"build_variables": {**current, key: value}})

    asyncio.run(go())


@pytest.mark.parametrize(("policy", "kept"), [("merge", True), ("replace", False)])
def test_env_policy_decides_which_live_build_variables_survive_an_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: str, kept: bool
) -> None:
    with rig(tmp_path, monkeypatch, with_build_env(policy=policy)) as r:
        applied(r)
        _set_live_build_variable(r, "SET_IN_DASHBOARD", "yes")
        r.write(with_build_env(node_env="staging", policy=policy))
        applied(r)
        live = _live_build_variables(r)
    assert live["NODE_ENV"] == "staging"
    assert ("SET_IN_DASHBOARD" in live) is kept, live
