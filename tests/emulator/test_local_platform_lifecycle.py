"""The local platform in the background (`odplan gateway start` / `status` / `stop`), one state
folder shared with `--gateway local`, and a fresh local gateway as a first deploy (issue 13's
demo, issue 16 item 6). Every test runs the real CLI as a subprocess with HOME in a temp dir."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pexpect
import pytest

from opendeploy_plan.engine.local_platform import (
    PlatformRecord,
    live_url,
    read_record,
    stop_platform,
)
from tests.cli_child import odplan

GUEST_MANIFEST = """\
version: 1
project:
  name: first-deploy
services:
  web:
    type: web
    source: .
    port: 8000
    subdomain: first-deploy-local
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """An empty HOME; any platform a test left running is stopped by its recorded pid."""
    folder = tmp_path / "home"
    folder.mkdir()
    yield folder
    stop_platform({"HOME": str(folder)}, grace=5)  # checks the pid is still the platform


def start(home: Path) -> PlatformRecord:
    started = odplan(
        home, "gateway", "start", "--port", "0", "--router-port", "0", "--runtime", "simulate"
    )
    assert started.returncode == 0, started.stdout + started.stderr
    assert "Stop it:   odplan gateway stop" in started.stdout
    record = read_record(home / ".opendeploy" / "local")
    assert record is not None
    return record


def test_start_status_stop_track_the_platform_by_its_process_group(home: Path) -> None:
    record = start(home)
    assert record.pgid == record.pid, "the platform leads its own process group"
    assert alive(record.pid)
    assert httpx.get(f"{record.api_url}/v1/regions/", timeout=5).status_code == 401  # answers

    again = odplan(home, "gateway", "start", "--port", "0")
    assert again.returncode == 1 and "already runs" in again.stderr

    status = json.loads(odplan(home, "gateway", "status", "--json").stdout)
    assert status["running"] is True and status["pid"] == record.pid

    log = (home / ".opendeploy" / "local" / "platform.log").read_text()
    assert "od_k" not in log, "a background platform writes no token to its log"

    stopped = odplan(home, "gateway", "stop")
    assert stopped.returncode == 0 and f"pid {record.pid}" in stopped.stdout
    deadline = time.monotonic() + 10
    while alive(record.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(record.pid)
    assert not (home / ".opendeploy" / "local" / "platform.json").exists()
    assert "not running" in odplan(home, "gateway", "stop").stdout
    assert json.loads(odplan(home, "gateway", "status", "--json").stdout) == {"running": False}


def consent_text(home: Path) -> str:
    """What `odplan login --guest --gateway local` on a terminal shows before it asks (the
    answer is no)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OD_", "OPDEPLOY_"))}
    env.update(HOME=str(home), NO_COLOR="1", TERM="xterm")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "opendeploy_plan", "login", "--guest", "--gateway", "local"],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 400),
    )
    child.expect_exact("Create one now?")
    shown = child.before or ""
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()
    return shown


def test_gateway_local_talks_to_the_running_platform_in_one_state_folder(home: Path) -> None:
    record = start(home)
    # The consent names where the platform answers, not the placeholder nothing serves.
    consent = consent_text(home)
    assert f"POST {record.api_url}/v1/client-guests/register" in consent, consent
    assert "odplan.local" not in consent
    login = odplan(home, "login", "--guest", "--gateway", "local", "--yes")
    assert login.returncode == 0, login.stderr
    again = odplan(home, "login", "--guest", "--gateway", "local", "--yes")
    assert again.returncode != 0 and "for the local gateway) is already saved" in again.stderr
    assert "odplan.local" not in again.stdout + again.stderr
    # The bind link answers on the platform's own port (the local dashboard page).
    bind = re.search(r"Bind URL: (\S+)", login.stdout)
    assert bind is not None and bind.group(1).startswith(record.root_url + "/guest/")
    page = httpx.get(bind.group(1), timeout=5)
    assert page.status_code == 200 and "Bind to a local account" in page.text

    saved = json.loads((home / ".opendeploy" / "local" / "auth.json").read_text())
    assert saved["api_key"].startswith("od_a") and saved["gateway"] == "http://odplan.local/api"
    # The platform itself knows the credential that `--gateway local` registered.
    answer = httpx.get(
        f"{record.api_url}/v1/regions/",
        headers={"Authorization": f"Bearer {saved['api_key']}"},
        timeout=5,
    )
    assert answer.status_code == 200
    assert (home / ".opendeploy" / "local" / "gateway.sqlite3").is_file()
    assert record.db_path == str(home / ".opendeploy" / "local" / "gateway.sqlite3")

    whoami = odplan(home, "whoami", "--gateway", "local", "--json")
    assert json.loads(whoami.stdout)["state"] == "guest pending"
    # What a person reads names where the gateway answers, never the placeholder it is saved
    # under (nothing serves http://odplan.local).
    assert f"Gateway: local, {record.api_url}" in login.stdout, login.stdout
    shown = odplan(home, "whoami", "--gateway", "local")
    assert f"local, {record.api_url}" in shown.stdout, shown.stdout
    assert "odplan.local" not in login.stdout + shown.stdout + shown.stderr

    # Acting as an account through the running platform (its admin API, by the record).
    account = odplan(home, "gateway", "account")
    assert account.returncode == 0, account.stdout + account.stderr
    whoami = odplan(home, "whoami", "--gateway", "local", "--json")
    assert json.loads(whoami.stdout)["state"] == "dashboard"
    status = json.loads(odplan(home, "gateway", "status", "--json").stdout)
    assert "admin_token" not in status, "status never prints a secret"
    assert odplan(home, "gateway", "stop").returncode == 0


def test_a_fresh_local_gateway_is_a_first_deploy(home: Path, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.py").write_text("print('hi')\n")
    (app / "requirements.txt").write_text("")
    (app / "opendeploy.yaml").write_text(GUEST_MANIFEST)

    refused = odplan(home, "apply", "--gateway", "local", "--auto-approve", cwd=app)
    assert refused.returncode == 1
    assert "consent" in refused.stderr and "Traceback" not in refused.stderr
    assert not (home / ".opendeploy" / "local" / "auth.json").exists(), "nothing minted"

    plan = odplan(home, "plan", "--gateway", "local", cwd=app)
    assert plan.returncode == 1 and "login --guest --gateway local" in plan.stderr

    applied = odplan(home, "apply", "--gateway", "local", "--auto-approve", "--yes", cwd=app)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    saved = json.loads((home / ".opendeploy" / "local" / "auth.json").read_text())
    assert saved["api_key"].startswith("od_a") and saved["guest_id"]
    # No platform runs: the links are the in-process simulation's, and say so.
    assert "simulated locally, not served" in applied.stdout
    assert "/guest/" in applied.stdout, "an unbound guest is shown its bind link"

    # Guest caps bite locally: plan warns of a second replica, and names the local bind link.
    (app / "opendeploy.yaml").write_text(GUEST_MANIFEST + "    replicas: 2\n")
    capped = odplan(home, "plan", "--gateway", "local", cwd=app)
    assert "exceed the guest cap of 1" in capped.stdout + capped.stderr
    assert "not served" in capped.stdout + capped.stderr, "the bind link is marked as local"

    # The documented way to act as an account instead.
    account = odplan(home, "gateway", "account")
    assert account.returncode == 0, account.stderr
    assert json.loads((home / ".opendeploy" / "local" / "auth.json").read_text())[
        "api_key"
    ].startswith("od_k")
    uncapped = odplan(home, "plan", "--gateway", "local", cwd=app)
    assert "guest cap" not in uncapped.stdout + uncapped.stderr
    # The account is another tenant than the guest (binding, not this, moves the guest's
    # projects): its plan creates the project anew, and the plan-time check says the guest's
    # project still holds the subdomain.
    assert uncapped.returncode == 1, uncapped.stdout + uncapped.stderr
    assert "already taken" in uncapped.stdout + uncapped.stderr


def test_a_stopped_local_runtime_state_is_refused_clearly(home: Path) -> None:
    state = home / ".opendeploy" / "local"
    state.mkdir(parents=True)
    (state / "local-runtime").touch()
    (state / "auth.json").write_text(
        json.dumps({"version": 1, "api_key": "od_k" + "A" * 43, "gateway": "local"})
    )
    (state / "auth.json").chmod(0o600)
    result = odplan(home, "whoami", "--gateway", "local")
    assert result.returncode == 1
    assert "odplan gateway start" in result.stderr and "Traceback" not in result.stderr


def test_live_urls_of_the_router() -> None:
    record = PlatformRecord(1, 1, "http://127.0.0.1:8787/api", 8788, "local", "", 0.0)
    assert live_url("web.opendeploy.run", record) == "http://web.localhost:8788"
    assert live_url("web.dev.opendeploy.run", record) == "http://web.dev.localhost:8788"
    assert live_url("shop.example.com", record) == "http://shop.example.com:8788"
    assert record.root_url == "http://127.0.0.1:8787"


def test_reports_of_the_in_process_gateway_mark_their_links(tmp_path: Path) -> None:
    from opendeploy_plan.engine.local_gateway import SIMULATED_NOTE, localize_report
    from opendeploy_plan.engine.report import DeployReport, ServiceOutcome
    from opendeploy_plan.gateway import LOCAL_BASE_URL

    report = DeployReport(
        project_name="shop",
        project_id="p1",
        environment="production",
        gateway=LOCAL_BASE_URL,
        services=[ServiceOutcome("web", "success", "d1", "https://web.opendeploy.run")],
        bind_url="http://odplan.local/guest/g1?h=s1",
    )
    shown = localize_report(report, {"HOME": str(tmp_path)})  # no platform runs there
    assert shown.services[0].url == "https://web.opendeploy.run (simulated locally, not served)"
    assert shown.project_url.endswith(SIMULATED_NOTE)
    assert "url=https%3A%2F%2Fweb.opendeploy.run" in shown.bind_url_with_app()
    assert shown.bind_url_with_app().endswith(SIMULATED_NOTE)
    remote = DeployReport("shop", "p1", "production", "https://dashboard.example/api")
    assert localize_report(remote, {"HOME": str(tmp_path)}) is remote
