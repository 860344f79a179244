"""Day-two commands at their edges, against a live local gateway (second mutation audit, issue
19): `rollback --to` a deployment that a rollback replaced (`rolled_back`: it was successful, so
it can be returned to), and `odplan status` naming as unmanaged the live databases the manifest
does not declare (not the declared ones that are not live yet)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ops.helpers import MANIFEST, Gateway, deployments, odplan


def test_rollback_to_a_rolled_back_deployment(gateway: Gateway, applied: Path) -> None:
    assert odplan("redeploy", "web", "-f", str(applied)).exit_code == 0
    second = deployments(gateway, "stamped")[0]
    assert odplan("rollback", "web", "-f", str(applied)).exit_code == 0
    states = {d["id"]: d["status"] for d in deployments(gateway, "stamped")}
    assert states[second["id"]] == "rolled_back"

    result = odplan("rollback", "web", "-f", str(applied), "--to", str(second["id"]), "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["target"]["id"] == second["id"]
    assert report["deployment"]["status"] == "success"
    assert deployments(gateway, "stamped")[0]["id"] == report["deployment"]["id"]


WITH_CACHE = MANIFEST + "dependencies:\n  cache:\n    type: redis\n"
WITH_STORE = MANIFEST + "dependencies:\n  store:\n    type: redis\n"


def test_status_names_the_live_databases_the_manifest_lacks(
    gateway: Gateway, tmp_path: Path
) -> None:
    from tests.ops.helpers import write_app

    manifest = write_app(tmp_path / "app") / "opendeploy.yaml"
    manifest.write_text(WITH_CACHE)
    applied = odplan("apply", "-f", str(manifest), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    manifest.write_text(WITH_STORE)  # `cache` left the manifest; `store` is not created yet

    result = odplan("status", "-f", str(manifest), "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["unmanaged_dependencies"] == ["cache"]
    assert {d["name"]: d["sync"] for d in data["databases"]} == {"cache": "unmanaged"}
