"""`odplan status` and `odplan logs` against a live local gateway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from opendeploy_plan.emulator import DeploymentFault
from tests.ops.helpers import (
    MANIFEST,
    Gateway,
    deployments,
    odplan,
    start_deployment,
    start_stalled_redeploy,
)

ODPLAN = Path(sys.executable).parent / "odplan"


def test_status_shows_each_service_in_sync(gateway: Gateway, applied: Path) -> None:
    result = odplan("status", "-f", str(applied), "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["project"]["name"] == "stamped"
    (web,) = data["services"]
    latest = deployments(gateway, "stamped")[0]
    assert web["name"] == "web"
    assert web["status"] == "success"
    assert web["progress"] == 100
    assert web["deployment_id"] == latest["id"]
    assert web["url"].startswith("https://") and web["url"].endswith(".opendeploy.run")
    assert web["replicas"] == 1
    assert web["cpu"] and web["memory"]
    assert web["sync"] == "in sync"
    assert web["pending"] == []


def test_status_names_pending_changes_by_address(gateway: Gateway, applied: Path) -> None:
    applied.write_text(MANIFEST.replace("LOG_LEVEL: info", "LOG_LEVEL: debug"))

    result = odplan("status", "-f", str(applied))

    assert result.exit_code == 0, result.output
    header, *rows = [
        line for line in result.stdout.splitlines() if line.startswith(("SERVICE", "web"))
    ]
    assert header.split()[:2] == ["SERVICE", "STATUS"]
    assert rows[0].split()[0] == "web"
    assert rows[0].endswith("changes pending")
    assert "pending: service.web.env (update)" in result.stdout
    assert "pending: service.web.deployment (deploy)" in result.stdout


def test_status_shows_a_running_deployment_with_its_progress(
    gateway: Gateway, applied: Path
) -> None:
    running = start_stalled_redeploy(gateway)

    data = json.loads(odplan("status", "-f", str(applied), "--json").stdout)

    (web,) = data["services"]
    assert web["deployment_id"] == running
    assert web["status"] == "building"
    assert 0 < web["progress"] < 100
    assert web["pending"] == ["service.web.deployment (wait)"]


def test_status_without_a_manifest_cannot_judge_sync(gateway: Gateway, applied: Path) -> None:
    result = odplan("status", "--project", "stamped", "-f", "/nonexistent.yaml", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["services"][0]["sync"] == "unknown"


def test_status_of_a_missing_project(gateway: Gateway, tmp_path: Path) -> None:
    manifest = tmp_path / "opendeploy.yaml"
    manifest.write_text(MANIFEST.replace("name: stamped", "name: absent"))
    (tmp_path / "main.py").write_text("print('hi')\n")

    result = odplan("status", "-f", str(manifest))

    assert result.exit_code == 1
    assert "project absent does not exist" in result.stderr


def test_runtime_logs(gateway: Gateway, applied: Path) -> None:
    result = odplan("logs", "web", "--file", str(applied))

    assert result.exit_code == 0, result.output
    assert "[runtime] web listening on 0.0.0.0:8000" in result.stdout


def test_build_logs_with_tail_and_since(gateway: Gateway, applied: Path) -> None:
    everything = odplan("logs", "web", "--file", str(applied), "--build")
    last_two = odplan("logs", "web", "--file", str(applied), "--build", "--tail", "2")
    future = odplan(
        "logs", "web", "--file", str(applied), "--build", "--since", "2999-01-01T00:00:00Z"
    )

    assert everything.exit_code == last_two.exit_code == future.exit_code == 0
    lines = everything.stdout.splitlines()
    assert len(lines) > 2
    assert "Deployment successful" in lines[-1]
    assert last_two.stdout.splitlines() == lines[-2:]
    assert future.stdout == ""


def test_follow_streams_the_build_until_the_deployment_ends(
    gateway: Gateway, applied: Path
) -> None:
    running = start_deployment(gateway)  # building, with more phases to come

    result = odplan("logs", "web", "--file", str(applied), "--build", "--follow")

    assert result.exit_code == 0, result.output
    assert "Deployment successful" in result.stdout.splitlines()[-1]
    assert f"deployment {running} ended: success" in result.stderr


def test_follow_with_tail_on_a_stream_is_a_usage_error(gateway: Gateway, applied: Path) -> None:
    result = odplan("logs", "web", "--file", str(applied), "--build", "--follow", "--tail", "5")
    bad_since = odplan("logs", "web", "--file", str(applied), "--since", "yesterday")

    assert result.exit_code == 1
    assert "--tail cannot be combined" in result.output
    assert bad_since.exit_code == 1
    assert "neither a duration" in bad_since.output


@pytest.mark.anyio
async def test_runtime_follow_prints_only_new_lines(gateway: Gateway, applied: Path) -> None:
    from opendeploy_plan.gateway import GatewayClient
    from opendeploy_plan.ops.logs import follow_runtime

    printed: list[str] = []
    async with GatewayClient(gateway.base_url, gateway.token) as client:
        project = await client.find_project_by_name("stamped")
        assert project is not None
        (service,) = await client.list_services(project.id)

        async def fetch() -> list[object]:
            return list((await client.service_logs(project.id, service.id)).logs or [])

        await follow_runtime(fetch, printed.append, interval=0.01, rounds=3)

    assert len(printed) == 1  # one runtime line, printed once although polled three times
    assert "listening on 0.0.0.0:8000" in printed[0]


def test_ctrl_c_while_following_exits_130_without_a_traceback(
    gateway: Gateway, applied: Path
) -> None:
    start_stalled_redeploy(gateway)
    process = subprocess.Popen(
        [str(ODPLAN), "logs", "web", "--file", str(applied), "--build", "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # the stream is flowing
        assert first, process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert "interrupted" in stderr


def test_failed_build_without_a_log(gateway: Gateway, applied: Path) -> None:
    gateway.emulator.add_deployment_fault(
        DeploymentFault(mode="fail", phase="build", error_msg="Service failed")
    )
    assert odplan("redeploy", "web", "-f", str(applied)).exit_code == 1

    result = odplan("logs", "web", "--file", str(applied), "--build", "--tail", "300")

    assert result.exit_code == 0
    assert "(failed)" in result.stderr


def test_status_still_shows_live_state_when_no_plan_can_be_made(
    gateway: Gateway, applied: Path
) -> None:
    applied.write_text(MANIFEST.replace("LOG_LEVEL: info", "LOG_LEVEL: ${{ secrets.UNSET_ONE }}"))

    result = odplan("status", "-f", str(applied), "--json")

    assert result.exit_code == 0, result.output
    assert "secret UNSET_ONE is not set" in result.stderr
    (web,) = json.loads(result.stdout)["services"]
    assert (web["status"], web["sync"]) == ("success", "unknown")
