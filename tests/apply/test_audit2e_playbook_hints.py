"""The failure playbook's hint for a deployment that fails at progress 10 without a log (second
mutation audit, issue 19; apply/handlers/deployment.py): the platform's signature of a project
whose source was never bound (update-source skipped, failed, or its upload expired). Apply
says so and that a rerun re-uploads and binds, instead of "read the build log" (there is none).

The gateway is the local one over real HTTP; the `Tamper` in tests/apply/rig.py unbinds the
project's source just before the deployment is created, as an expired upload would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.apply.rig import Rig, rig

SOLO = """\
version: 1
project:
  name: solo
services:
  web:
    type: web
    source: web
    language: python
    port: 8080
    dockerfile: Dockerfile
"""

NOT_BOUND = "the project's source was not bound"


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, SOLO) as the_rig:
        yield the_rig


def _unbind_before_the_deployment(gw: Rig) -> None:
    store = gw.tamper.app.state.emulator.store

    async def unbind(_match: re.Match[str]) -> None:
        with store.transaction() as tx:
            for row in tx.all("SELECT id, data FROM projects"):
                data = json.loads(row["data"])
                data["source_path"] = ""
                tx.execute("UPDATE projects SET data=? WHERE id=?", (json.dumps(data), row["id"]))

    gw.tamper.before("POST", "/api/v1/deployments/", unbind)


def test_a_deployment_failing_at_progress_10_without_a_log_says_the_source_was_not_bound(
    gw: Rig,
) -> None:
    _unbind_before_the_deployment(gw)

    result = gw.apply()

    assert result.exit_code == 1, result.output
    assert gw.tamper.fired()["before POST /api/v1/deployments/"] == 1
    assert "The build failed before writing any log (progress 10)" in result.output
    assert NOT_BOUND in result.output
    assert "it re-uploads and binds the source before deploying" in result.output
    assert "the log tail above is the root cause" not in result.output
    # And the advice holds: the next apply binds the source again and the deployment succeeds.
    again = gw.apply()
    assert again.exit_code == 0, again.output
