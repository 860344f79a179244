"""redeploy, rollback and cancel: each waits for the terminal state, reads it back, reports like
apply, writes one audit line, and leaves the next `odplan plan` with nothing to do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from opendeploy_plan.emulator import DeploymentFault
from opendeploy_plan.plan import parse_stamp
from tests.conftest import run_on_a_tty
from tests.ops.helpers import (
    SECRET_CANARY,
    Gateway,
    Skill,
    deployments,
    odplan,
    start_stalled_redeploy,
    write_app,
)


def test_redeploy_keeps_the_stamp_so_plan_stays_clean(gateway: Gateway, applied: Path) -> None:
    before = deployments(gateway, "stamped")[0]

    result = odplan("redeploy", "web", "-f", str(applied), "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "success"
    assert report["deployment"]["status"] == "success"  # read back after the watch
    after = deployments(gateway, "stamped")
    assert after[0]["id"] == report["deployment"]["id"] != before["id"]
    old, new = parse_stamp(str(before["description"])), parse_stamp(str(after[0]["description"]))
    assert old is not None and new is not None
    assert (new.project_digest, new.service_digest) == (old.project_digest, old.service_digest)
    assert new.run_id != old.run_id
    planned = odplan("plan", "-f", str(applied), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert any('"step":"operate.redeploy"' in line for line in gateway.audit_lines())


def test_redeploy_of_an_unstamped_deployment_stays_unstamped(
    gateway: Gateway, tmp_path: Path
) -> None:
    skill = Skill(gateway)
    skill.first_deploy(write_app(tmp_path / "app"))
    skill.close()

    result = odplan("redeploy", "web", "--project", "shop")

    assert result.exit_code == 0, result.output
    assert "## Deployment successful" in result.stdout
    latest = deployments(gateway, "shop")[0]
    assert latest["status"] == "success"
    assert str(latest["description"]).startswith("odplan redeploy of web")
    assert parse_stamp(str(latest["description"])) is None  # the source is still unknown
    status = odplan("status", "--project", "shop", "--json")
    for output in (result.output, status.output, *gateway.audit_lines()):
        assert SECRET_CANARY not in output


def test_redeploy_that_fails_exits_1_and_points_at_the_build_log(
    gateway: Gateway, applied: Path
) -> None:
    gateway.emulator.add_deployment_fault(
        DeploymentFault(mode="fail", phase="build", error_msg="npm ERR! missing script: build")
    )

    result = odplan("redeploy", "web", "-f", str(applied))

    assert result.exit_code == 1
    assert "## Deployment failed" in result.stdout
    assert "npm ERR! missing script: build" in result.stderr
    assert "odplan logs web --build" in result.stderr
    assert deployments(gateway, "stamped")[0]["status"] == "failed"


def test_rollback_defaults_to_the_previous_successful_deployment(
    gateway: Gateway, applied: Path
) -> None:
    first = deployments(gateway, "stamped")[0]
    assert odplan("redeploy", "web", "-f", str(applied)).exit_code == 0
    second = deployments(gateway, "stamped")[0]

    result = odplan("rollback", "web", "-f", str(applied), "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["target"]["id"] == first["id"]
    assert report["replaced"]["id"] == second["id"]
    assert report["replaced"]["status"] == "rolled_back"
    assert report["deployment"]["status"] == "success"
    states = {d["id"]: d["status"] for d in deployments(gateway, "stamped")}
    assert states[second["id"]] == "rolled_back"
    assert states[report["deployment"]["id"]] == "success"
    assert any('"step":"operate.rollback"' in line for line in gateway.audit_lines())


def test_rollback_to_a_named_deployment(gateway: Gateway, applied: Path) -> None:
    first = deployments(gateway, "stamped")[0]
    for _ in range(2):
        assert odplan("redeploy", "web", "-f", str(applied)).exit_code == 0
    newest = deployments(gateway, "stamped")[0]

    result = odplan("rollback", "web", "-f", str(applied), "--to", str(first["id"]), "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["target"]["id"] == first["id"]
    assert report["target"]["status"] == "success"
    assert report["replaced"]["id"] == newest["id"]
    assert deployments(gateway, "stamped")[0]["id"] == report["deployment"]["id"]


def test_rollback_refuses_what_it_cannot_roll_back_to(gateway: Gateway, applied: Path) -> None:
    only = deployments(gateway, "stamped")[0]

    nothing_earlier = odplan("rollback", "web", "-f", str(applied))
    running_one = odplan("rollback", "web", "-f", str(applied), "--to", str(only["id"]))
    unknown = odplan("rollback", "web", "-f", str(applied), "--to", "no-such-deployment")

    assert nothing_earlier.exit_code == 1
    assert "no earlier successful deployment" in nothing_earlier.stderr
    assert running_one.exit_code == 1
    assert "already the one running" in running_one.stderr
    assert unknown.exit_code == 1
    assert "is not a deployment of web" in unknown.stderr
    assert len(deployments(gateway, "stamped")) == 1  # nothing was started


def test_cancel_asks_first_and_refuses_without_a_terminal(gateway: Gateway, applied: Path) -> None:
    running = start_stalled_redeploy(gateway)

    result = odplan("cancel", "web", "-f", str(applied))

    assert result.exit_code == 1
    assert "--yes" in result.stderr
    assert deployments(gateway, "stamped")[0]["id"] == running
    assert deployments(gateway, "stamped")[0]["status"] != "cancelled"


def test_cancel_on_a_terminal_takes_enter_as_no(gateway: Gateway, applied: Path) -> None:
    """The prompt's default is "no": Enter (or anything but y) keeps the deployment running."""
    running = start_stalled_redeploy(gateway)
    argv = [sys.executable, "-m", "opendeploy_plan", "cancel", "web", "-f", str(applied)]

    for answer in ("", "n"):
        kept = run_on_a_tty(argv, os.environ, answer)
        assert kept.returncode == 1, kept.stderr
        assert f"Cancel deployment {running} of web" in kept.stderr and "[y/N]" in kept.stderr
        assert "not cancelled" in kept.stderr
        assert deployments(gateway, "stamped")[0]["status"] != "cancelled"

    cancelled = run_on_a_tty(argv, os.environ, "y")
    assert cancelled.returncode == 0, cancelled.stderr
    assert deployments(gateway, "stamped")[0]["status"] == "cancelled"


def test_cancel_with_yes_waits_for_cancelled_and_reads_it_back(
    gateway: Gateway, applied: Path
) -> None:
    running = start_stalled_redeploy(gateway)

    result = odplan("cancel", "web", "-f", str(applied), "--yes", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["deployment"]["id"] == running
    assert report["deployment"]["status"] == "cancelled"
    assert deployments(gateway, "stamped")[0]["status"] == "cancelled"
    assert any('"step":"operate.cancel"' in line for line in gateway.audit_lines())
    # The next plan redeploys, since the latest deployment was cancelled.
    planned = odplan("plan", "-f", str(applied), "--detailed-exitcode")
    assert planned.exit_code == 2
    assert "service.web.deployment" in planned.stdout


def test_redeploy_and_rollback_refuse_while_a_deployment_is_in_flight(
    gateway: Gateway, applied: Path
) -> None:
    running = start_stalled_redeploy(gateway)

    redeploy = odplan("redeploy", "web", "-f", str(applied))
    rollback = odplan("rollback", "web", "-f", str(applied))

    for result in (redeploy, rollback):
        assert result.exit_code == 1
        assert running in result.stderr
        assert "odplan cancel web" in result.stderr
    assert deployments(gateway, "stamped")[0]["id"] == running


def test_cancel_with_nothing_in_flight_is_a_no_op(gateway: Gateway, applied: Path) -> None:
    result = odplan("cancel", "web", "-f", str(applied), "--yes")

    assert result.exit_code == 0
    assert "nothing to cancel" in result.stderr
    assert deployments(gateway, "stamped")[0]["status"] == "success"


def test_unknown_service_is_a_clear_error(gateway: Gateway, applied: Path) -> None:
    result = odplan("redeploy", "api", "-f", str(applied))

    assert result.exit_code == 1
    assert "has no service 'api'" in result.stderr
    assert "Services: web" in result.stderr
    assert "Traceback" not in result.output


def test_ctrl_c_while_waiting_exits_130_and_leaves_the_deployment_running(
    gateway: Gateway, applied: Path
) -> None:
    gateway.emulator.add_deployment_fault(DeploymentFault(mode="stall", phase="building"))
    odplan_bin = Path(sys.executable).parent / "odplan"
    process = subprocess.Popen(
        [str(odplan_bin), "redeploy", "web", "-f", str(applied)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert process.stderr is not None
        while "web: " not in (line := process.stderr.readline()):  # the watch has begun
            assert line, "odplan redeploy ended before watching"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert "the deployment keeps running" in stderr
    assert deployments(gateway, "stamped")[0]["status"] not in ("cancelled", "failed")
