"""Day two on a one-service project (issue 16 item 7), through the real CLI as a child process
over real HTTP: no SERVICE argument needed, `logs -f` follows, `odplan deployments` lists the
service's deployments with their source and the one serving, and after `odplan rollback` the
plan still knows which source runs (the rollback is followed to its target's stamp)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.apply_support import Odplan, RealGateway, describe, real_gateway

MANIFEST = """\
version: 1
project:
  name: solo
services:
  web:
    port: 8000
    env:
      LOG_LEVEL: info
"""


@pytest.fixture
def gateway() -> Iterator[RealGateway]:
    with real_gateway(auto_domain_delay_seconds=0.0) as running:
        yield running


@pytest.fixture
def solo(gateway: RealGateway, tmp_path: Path) -> Odplan:
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text("print('v1')\n")
    (app / "requirements.txt").write_text("fastapi\n")
    (app / "opendeploy.yaml").write_text(MANIFEST)
    home = tmp_path / "home"
    home.mkdir()
    odplan = Odplan(gateway, home, app / "opendeploy.yaml")
    applied = odplan.apply()
    assert applied.returncode == 0, describe(applied)
    return odplan


def test_day_two_commands_need_no_service_name(solo: Odplan) -> None:
    redeployed = solo.run("redeploy")
    assert redeployed.returncode == 0, describe(redeployed)
    assert "web" in redeployed.stderr + redeployed.stdout

    logs = solo.run("logs")
    assert logs.returncode == 0, describe(logs)
    assert "listening on" in logs.stdout

    build = solo.run("logs", "--build", "--tail", "1")
    assert build.returncode == 0, describe(build)
    assert "Deployment successful" in build.stdout

    cancel = solo.run("cancel", "--yes")
    assert cancel.returncode == 0, describe(cancel)
    assert "no deployment of web is in flight" in cancel.stderr


def test_a_service_name_is_required_only_when_there_are_several(
    solo: Odplan, tmp_path: Path
) -> None:
    two = solo.manifest.read_text() + "  worker:\n    type: worker\n"
    solo.manifest.write_text(two)

    result = solo.run("redeploy")

    assert result.returncode == 1
    assert "more than one service; say which" in result.stderr
    assert "web, worker" in result.stderr
    assert "Traceback" not in result.stderr


def test_logs_dash_f_follows_until_ctrl_c(solo: Odplan) -> None:
    process = subprocess.Popen(
        solo.argv("logs", "-f"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=solo.env,
        cwd=solo.manifest.parent,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "listening on" in first, process.stderr.read() if process.stderr else ""
        # Still running: -f keeps polling instead of printing once and exiting.
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=1.5)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130
    assert "Traceback" not in stderr


def test_deployments_list_and_rollback_keeps_the_source_known(solo: Odplan) -> None:
    (solo.manifest.parent / "main.py").write_text("print('v2')\n")
    second = solo.apply()
    assert second.returncode == 0, describe(second)

    listed = solo.run("deployments")
    assert listed.returncode == 0, describe(listed)
    lines = listed.stdout.splitlines()
    assert lines[1].split()[:5] == ["DEPLOYMENT", "STATUS", "AGE", "SOURCE", "SERVING"]
    newest, older = lines[2].split(), lines[3].split()
    assert newest[1] == "success" and newest[4] == "*"
    assert older[1] == "success" and "*" not in older[4:]
    assert newest[3].startswith("odsrc1:") and older[3].startswith("odsrc1:")
    assert newest[3] != older[3]
    first_id, first_source = older[0], older[3]

    rolled = solo.run("rollback")
    assert rolled.returncode == 0, describe(rolled)

    after = solo.run("deployments", "--json")
    assert after.returncode == 0, describe(after)
    import json

    rows = json.loads(after.stdout)["deployments"]
    assert rows[0]["serving"] and rows[0]["note"] == f"rollback to {first_id}"
    assert rows[0]["source"] == first_source  # the rollback runs the first build's source

    status = solo.run("status")
    assert status.returncode == 0, describe(status)
    web = next(line for line in status.stdout.splitlines() if line.startswith("web "))
    assert rows[0]["id"] in web.split()  # SERVING names the rollback deployment

    planned = solo.plan("--detailed-exitcode")
    assert planned.returncode == 2, describe(planned)
    # The plan knows what runs (the first source), not "(unknown)", and binds nothing new:
    # the rollback reused an old build, the bound archive is still the second one.
    assert "(unknown)" not in planned.stdout
    assert "has no odplan stamp" not in planned.stdout
    assert "project.source" not in planned.stdout
    assert first_source.removeprefix("odsrc1:")[:8] in planned.stdout
