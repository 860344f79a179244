"""The local platform's record and the links of `--gateway local` (engine.local_platform,
engine.local_gateway): which process counts as serving, and where each link then points.

A "platform" here is a real process whose command line reads `... gateway serve` (a sleeping
Python child in its own session), stopped by its pid at the end of each test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from opendeploy_plan.engine.local_gateway import (
    SIMULATED_NOTE,
    LocalLinks,
    in_process_gateway,
    local_address,
    local_links,
    local_page_link,
    localize_report,
    mint_local_account,
)
from opendeploy_plan.engine.local_platform import (
    LOCAL_RUNTIME_MARK,
    RECORD_NAME,
    PlatformRecord,
    default_db,
    live_url,
    read_record,
    remove_record,
    running_platform,
    serving,
    write_record,
)
from opendeploy_plan.engine.report import DeployReport, ServiceOutcome
from opendeploy_plan.gateway import LOCAL_BASE_URL, GatewayError, local_dir


def _record(pid: int = 1, pgid: int = 1, router_port: int | None = 18788) -> PlatformRecord:
    return PlatformRecord(
        pid=pid,
        pgid=pgid,
        api_url="http://127.0.0.1:18787/api",
        router_port=router_port,
        runtime="simulate",
        db_path="/db",
        started_at=12.5,
        admin_token="adm-secret",
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    (home / ".opendeploy" / "local").mkdir(parents=True)
    return {"HOME": str(home)}


@pytest.fixture
def platform_process() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", "gateway", "serve"],
        start_new_session=True,
    )
    try:
        yield child
    finally:
        child.kill()
        child.wait(timeout=10)


def test_live_url_maps_auto_domains_to_the_router() -> None:
    record = _record(router_port=9999)
    assert live_url("web.opendeploy.run", record) == "http://web.localhost:9999"
    assert live_url("web.dev.opendeploy.run", record) == "http://web.dev.localhost:9999"
    assert live_url("shop.example.com", record) == "http://shop.example.com:9999"
    assert live_url("opendeploy.run", record) == "http://opendeploy.run:9999"


def test_a_record_round_trips_privately(tmp_path: Path) -> None:
    record = _record()
    write_record(tmp_path, record)
    assert read_record(tmp_path) == record
    assert (tmp_path / RECORD_NAME).stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "platform.tmp").exists()
    assert record.root_url == "http://127.0.0.1:18787"
    assert "admin_token" not in record.shown()
    assert record.shown()["router_port"] == 18788


def test_a_minimal_record_reads_with_defaults(tmp_path: Path) -> None:
    (tmp_path / RECORD_NAME).write_text(json.dumps({"pid": 5, "pgid": 6, "api_url": "http://x"}))
    record = read_record(tmp_path)
    assert record == PlatformRecord(5, 6, "http://x", None, "simulate", "", 0.0, None)
    (tmp_path / RECORD_NAME).write_text(
        json.dumps({"pid": "7", "pgid": 7, "api_url": "u", "router_port": "81", "admin_token": ""})
    )
    again = read_record(tmp_path)
    assert again is not None
    assert (again.pid, again.router_port, again.admin_token) == (7, 81, None)


@pytest.mark.parametrize(
    "text", ["not json", "[]", json.dumps({"pgid": 1, "api_url": "u"}), json.dumps({"pid": "x"})]
)
def test_an_unreadable_record_is_none(tmp_path: Path, text: str) -> None:
    (tmp_path / RECORD_NAME).write_text(text)
    assert read_record(tmp_path) is None
    assert read_record(tmp_path / "absent") is None


def test_remove_record_only_removes_its_own(tmp_path: Path) -> None:
    write_record(tmp_path, _record(pid=41))
    remove_record(tmp_path, 42)
    assert read_record(tmp_path) is not None
    remove_record(tmp_path, 41)
    assert not (tmp_path / RECORD_NAME).exists()
    remove_record(tmp_path, 41)  # nothing left: no error


def test_default_db_is_in_the_local_folder(env: dict[str, str]) -> None:
    assert default_db(env) == local_dir(env) / "gateway.sqlite3"


def test_only_the_recorded_gateway_process_counts_as_serving(
    env: dict[str, str], platform_process: subprocess.Popen[bytes]
) -> None:
    folder = local_dir(env)
    assert serving(folder) is None  # no record
    pid = platform_process.pid
    write_record(folder, _record(pid=pid, pgid=pid))
    assert serving(folder) == _record(pid=pid, pgid=pid)
    assert running_platform(env) == _record(pid=pid, pgid=pid)
    write_record(folder, _record(pid=pid, pgid=pid + 1))  # another process group
    assert serving(folder) is None
    me = os.getpid()  # alive, but not a gateway
    write_record(folder, _record(pid=me, pgid=os.getpgid(me)))
    assert serving(folder) is None


def test_a_dead_process_does_not_serve(env: dict[str, str]) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass", "gateway", "serve"])
    child.wait(timeout=30)
    write_record(local_dir(env), _record(pid=child.pid, pgid=child.pid))
    assert serving(local_dir(env)) is None


def test_links_without_a_platform_are_marked_simulated(env: dict[str, str]) -> None:
    links = local_links(LOCAL_BASE_URL + "/", env)
    assert links is not None and links.record is None
    assert local_links("https://gw.example/api", env) is None
    assert links.app("web.opendeploy.run") == (
        "https://web.opendeploy.run (simulated locally, not served)"
    )
    assert links.page("http://odplan.local/guest/g?h=1") == (
        f"http://odplan.local/guest/g?h=1 {SIMULATED_NOTE}"
    )
    assert links.page("https://elsewhere/x") == "https://elsewhere/x"
    assert local_page_link("http://odplan.local/projects/p", env).endswith(SIMULATED_NOTE)
    assert local_address(env).startswith("local, in-process")


def test_links_with_a_platform_answer_on_this_machine(
    env: dict[str, str], platform_process: subprocess.Popen[bytes]
) -> None:
    pid = platform_process.pid
    write_record(local_dir(env), _record(pid=pid, pgid=pid, router_port=18788))
    links = local_links(LOCAL_BASE_URL, env)
    assert links is not None and links.record is not None
    assert links.app("web.opendeploy.run") == "http://web.localhost:18788"
    assert links.page("http://odplan.local/guest/g?h=1") == "http://127.0.0.1:18787/guest/g?h=1"
    assert links.page("https://elsewhere/x") == "https://elsewhere/x"
    assert local_page_link("http://odplan.local/projects/p", env) == (
        "http://127.0.0.1:18787/projects/p"
    )
    assert local_address(env) == "local, http://127.0.0.1:18787/api"
    no_router = LocalLinks(_record(pid=pid, pgid=pid, router_port=None))
    assert no_router.app("web.opendeploy.run").endswith("(simulated locally, not served)")


def _local_report(bind_url: str = "") -> DeployReport:
    return DeployReport(
        project_name="shop",
        project_id="p-1",
        environment="production",
        gateway=LOCAL_BASE_URL,
        services=[
            ServiceOutcome("api", "success"),
            ServiceOutcome("web", "success", "d-1", "https://web.opendeploy.run"),
        ],
        bind_url=bind_url,
    )


def test_a_report_of_another_gateway_is_left_alone(env: dict[str, str]) -> None:
    report = DeployReport("shop", "p", "production", "https://gw.example/api", [])
    assert localize_report(report, env) is report


def test_a_report_without_a_platform_is_marked_simulated(env: dict[str, str]) -> None:
    report = localize_report(_local_report("http://odplan.local/guest/g?h=1"), env)
    assert report.local_note == SIMULATED_NOTE
    assert report.gateway == LOCAL_BASE_URL
    assert [s.url for s in report.services] == [
        "",
        "https://web.opendeploy.run (simulated locally, not served)",
    ]
    assert report.bind_url == "http://odplan.local/guest/g?h=1"
    assert report.project_url.endswith(SIMULATED_NOTE)


def test_a_report_with_a_platform_links_its_router_and_pages(
    env: dict[str, str], platform_process: subprocess.Popen[bytes]
) -> None:
    pid = platform_process.pid
    write_record(local_dir(env), _record(pid=pid, pgid=pid, router_port=18788))
    report = localize_report(_local_report("http://odplan.local/guest/g?h=1"), env)
    assert report.local_note == ""
    assert report.gateway == "http://127.0.0.1:18787/api"
    assert [s.url for s in report.services] == ["", "http://web.localhost:18788"]
    assert report.bind_url == "http://127.0.0.1:18787/guest/g?h=1"
    assert report.project_url == "http://127.0.0.1:18787/projects/p-1"
    assert localize_report(_local_report(), env).bind_url == ""


@pytest.mark.anyio
async def test_a_stopped_local_runtime_state_is_refused_in_process(env: dict[str, str]) -> None:
    folder = local_dir(env)
    (folder / LOCAL_RUNTIME_MARK).write_text("")
    with pytest.raises(GatewayError) as refused:
        async with in_process_gateway(folder, None):
            pass  # pragma: no cover
    assert "the local platform is stopped" in str(refused.value)


@pytest.mark.anyio
async def test_the_in_process_gateway_keeps_its_state_in_the_folder(env: dict[str, str]) -> None:
    folder = local_dir(env)
    async with in_process_gateway(folder, {"seed": 3}) as endpoint:
        assert endpoint.mint_token()
    assert (folder / "gateway.sqlite3").exists()


@pytest.mark.anyio
async def test_a_local_account_is_saved_for_the_local_gateway(env: dict[str, str]) -> None:
    path = await mint_local_account(env)
    assert path == local_dir(env) / "auth.json"
    saved = json.loads(path.read_text())
    assert LOCAL_BASE_URL in json.dumps(saved)
