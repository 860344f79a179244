"""The project create honours the manifest's region (independent mutation audit, issue 19):
`project.region: eu-west-1` creates the project there, not in the first active region. Real
HTTP against the local gateway (its seeded regions: us-east-1 first, eu-west-1 second).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.apply.rig import Rig, rig
from tests.apply.test_handler_promises import applied, manifest


def _regions(r: Rig) -> tuple[str, dict[str, str]]:
    """(the project's region id, region code -> id)."""

    async def go() -> tuple[str, dict[str, str]]:
        async with r.client() as client:
            project = await client.find_project_by_name("tiny")
            assert project is not None
            codes = {region.code: region.id for region in await client.regions()}
            return (await client.get_project(project.id)).region_id or "", codes

    return asyncio.run(go())


def test_the_project_is_created_in_the_manifests_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = manifest().replace("  name: tiny\n", "  name: tiny\n  region: eu-west-1\n")
    with rig(tmp_path, monkeypatch, text) as r:
        applied(r)
        region_id, codes = _regions(r)
        assert region_id == codes["eu-west-1"] != codes["us-east-1"]
        planned = r.odplan("plan", "--detailed-exitcode")
        assert planned.exit_code == 0, planned.output
