"""redeploy and rollback when the gateway's answer is lost (the request was carried out, the
response never arrived): odplan finds the deployment it started (redeploy by its run id in the
description, rollback by the one deployment it did not know) instead of starting a second one
or failing a command that worked. A rollback the gateway answered but that started nothing is
an error saying what to check.

odplan runs in-process against the local gateway over real HTTP, faults injected per route."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ops.helpers import Gateway, deployments, odplan

# Against the gateway that answers only what the documents promise, as well as the default one.
pytestmark = pytest.mark.parametrize("gateway", ["default", "documented"], indirect=True)


def _fault(gateway: Gateway, **spec: Any) -> None:
    root = gateway.base_url.removesuffix("/api")
    httpx.post(f"{root}/_emulator/faults", json=spec, timeout=30).raise_for_status()


def test_a_redeploy_whose_answer_is_lost_is_found_not_repeated(
    gateway: Gateway, applied: Path
) -> None:
    before = {d["id"] for d in deployments(gateway, "stamped")}
    _fault(gateway, kind="lost_response", method="POST", route="/api/v1/deployments/", count=1)

    result = odplan("redeploy", "web", "-f", str(applied), "--json")

    assert result.exit_code == 0, result.output
    new = [d for d in deployments(gateway, "stamped") if d["id"] not in before]
    assert len(new) == 1, new  # found by its run id, not deployed twice
    report = json.loads(result.stdout)
    assert report["deployment"]["id"] == new[0]["id"]
    assert report["deployment"]["status"] == "success"


def test_a_rollback_whose_answer_is_lost_follows_the_deployment_it_started(
    gateway: Gateway, applied: Path
) -> None:
    first = deployments(gateway, "stamped")[0]
    assert odplan("redeploy", "web", "-f", str(applied)).exit_code == 0
    known = {d["id"] for d in deployments(gateway, "stamped")}
    _fault(
        gateway,
        kind="lost_response",
        method="POST",
        route="/api/v1/deployments/*/rollback",
        count=1,
    )

    result = odplan("rollback", "web", "-f", str(applied), "--json")

    assert result.exit_code == 0, result.output
    new = [d for d in deployments(gateway, "stamped") if d["id"] not in known]
    assert len(new) == 1, new
    report = json.loads(result.stdout)
    assert report["target"]["id"] == first["id"]
    assert report["deployment"]["id"] == new[0]["id"]
    assert report["deployment"]["status"] == "success"


def test_a_rollback_that_started_nothing_says_what_to_check(
    gateway: Gateway, applied: Path
) -> None:
    assert odplan("redeploy", "web", "-f", str(applied)).exit_code == 0
    known = {d["id"] for d in deployments(gateway, "stamped")}
    _fault(
        gateway,
        kind="error",
        status=502,
        method="POST",
        route="/api/v1/deployments/*/rollback",
        count=None,
    )

    result = odplan("rollback", "web", "-f", str(applied))

    assert result.exit_code == 1, result.output
    assert "the rollback of web to " in result.output
    assert "started no deployment" in result.output
    assert "Check odplan status; retry if nothing is running." in result.output
    assert {d["id"] for d in deployments(gateway, "stamped")} == known
