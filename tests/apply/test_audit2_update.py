"""A service update of `after:` (independent mutation audit, issue 19): the changed
`dependencies` are sent with `PUT /v1/services/:id`, read back, and the next plan is clean.
Real HTTP against the local gateway, odplan in-process (tests/apply/rig.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.apply.rig import Rig, rig
from tests.apply.test_handler_promises import ID, applied, failed

TWO = """\
version: 1
project:
  name: tiny
services:
  api:
    type: worker
    source: web
    language: python
    dockerfile: Dockerfile
  jobs:
    type: worker
    source: web
    language: python
    dockerfile: Dockerfile
{after}"""


def _dependencies_of(r: Rig, name: str) -> list[str]:
    async def go() -> list[str]:
        async with r.client() as client:
            project = await client.find_project_by_name("tiny")
            assert project is not None
            service = await client.find_service_by_name(project.id, name)
            assert service is not None
            read = (await client.get_service(service.id)).model_dump()
            return list(read.get("dependencies") or [])

    return asyncio.run(go())


def test_a_changed_after_is_sent_read_back_and_converges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, TWO.format(after="")) as r:
        applied(r)
        assert _dependencies_of(r, "jobs") == []
        r.write(TWO.format(after="    after: [api]\n"))
        applied(r)
        assert _dependencies_of(r, "jobs") == ["api"]
        planned = r.odplan("plan", "--detailed-exitcode")
        assert planned.exit_code == 0, planned.output


def test_a_changed_after_the_gateway_did_not_keep_fails_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, TWO.format(after="")) as r:
        applied(r)
        r.write(TWO.format(after="    after: [api]\n"))
        r.tamper.rewrite("PUT", f"/api/v1/services/{ID}", lambda b: {**b, "dependencies": []})
        out = failed(r)
        assert "service.jobs dependencies is [], expected ['api']" in out


def test_a_created_service_whose_after_the_gateway_did_not_keep_fails_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, TWO.format(after="    after: [api]\n")) as r:
        dropped = {"api": False}

        def drop_after(body: dict[str, object]) -> dict[str, object]:
            if body.get("name") == "jobs":
                dropped["api"] = True
                return {**body, "dependencies": []}
            return body

        r.tamper.rewrite("POST", f"/api/v1/projects/{ID}/services/", drop_after, count=None)
        out = failed(r)
        assert dropped["api"], "the create of jobs went through the tampered route"
        assert "service.jobs dependencies is [], expected ['api']" in out
