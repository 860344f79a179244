"""Another apply that started deploying this very change after our refresh (the same source and
config digests in its stamp): ours waits for that deployment instead of deploying the change a
second time, and is done when it succeeds. The racer is the *newest* deployment; an older one
carrying the same digests (the change was deployed before, then replaced) is history, not a
racer.

`odplan apply` runs in-process against a local gateway over real HTTP (tests/apply/rig.py);
the racer is created inside our run, right after our source upload."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.apply.rig import ONE_DB, Rig, deploy_by_someone_else, rig


def _deployments(gw: Rig) -> list[Any]:
    async def go() -> list[Any]:
        async with gw.client() as client:
            project = await client.find_project_by_name("tiny")
            assert project is not None
            return await client.list_deployments(project_id=project.id)

    return asyncio.run(go())


@pytest.mark.parametrize("profile", ["default", "documented"])
def test_a_racer_deploying_the_same_change_is_awaited_not_repeated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str
) -> None:
    with rig(tmp_path, monkeypatch, ONE_DB, profile=profile) as gw:
        main_py = gw.app_dir / "web" / "main.py"
        assert gw.apply().exit_code == 0  # change X
        (first,) = _deployments(gw)
        main_py.write_text("print('other')\n")
        assert gw.apply().exit_code == 0  # change Y
        main_py.write_text("print('hello')\n")  # back to X: deploying X again is planned
        racer: list[str] = []

        async def someone_deploys_x(match: Any) -> None:
            async with gw.inside() as client:
                # The same digests as ours: the description (stamp) of the first X.
                racer.append(await deploy_by_someone_else(client, description=first.description))

        async def after_our_upload(match: Any) -> None:
            gw.tamper.before("GET", "/api/v1/deployments/?", someone_deploys_x)

        gw.tamper.before("POST", "/api/v1/upload/update-source", after_our_upload)
        result = gw.apply()

        assert result.exit_code == 0, result.output
        assert racer, result.output
        assert f"another run is deploying this change ({racer[0]}): waiting for it" in (
            result.output
        )
        assert len(_deployments(gw)) == 3  # X, Y and the racer's X: ours was not deployed
