"""`odplan gateway serve` as a real subprocess: the skill's own curl+jq first-deploy flow passes
against it, and it prints its URL and token, then stops cleanly on Ctrl-C / SIGTERM. Every
server runs with a HOME under the test's tmp folder and the scripted (simulated) phases, so
nothing is left under /var/lib/opendeploy or the real HOME."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ODPLAN = Path(sys.executable).parent / "odplan"
SCRIPT = Path(__file__).with_name("skill_first_deploy.sh")
# The scripted phases, not the local runtime: as root that would keep its builds under
# /var/lib/opendeploy and route on the shared port 8788 (docs/runtime.md has its own tests).
SIMULATED = ("--runtime", "simulate")


def _env(tmp_path: Path) -> dict[str, str]:
    """The server's environment: a HOME of its own, never the real one."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {**os.environ, "HOME": str(home)}


class Served:
    def __init__(self, process: subprocess.Popen[str], base_url: str, token: str) -> None:
        self.process, self.base_url, self.token = process, base_url, token


def _read_banner(process: subprocess.Popen[str], timeout: float = 20) -> dict[str, str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    banner: dict[str, str] = {}
    while "dashboard token" not in banner:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("odplan gateway serve printed no banner") from None
        if not line:
            raise AssertionError(
                f"server exited: {process.stderr.read() if process.stderr else ''}"
            )
        key, _, value = line.strip().partition(": ")
        banner[key] = value
    return banner


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from _serve(tmp_path)


@pytest.fixture
def served_documented(tmp_path: Path) -> Iterator[Served]:
    yield from _serve(tmp_path, "--profile", "documented")


def _serve(tmp_path: Path, *extra: str) -> Iterator[Served]:
    process = subprocess.Popen(
        [
            str(ODPLAN),
            "gateway",
            "serve",
            "--port",
            "0",
            "--db",
            str(tmp_path / "gw.db"),
            "--build-seconds",
            "0.5",
            "--deploy-seconds",
            "0.5",
            *SIMULATED,
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_env(tmp_path),
    )
    try:
        banner = _read_banner(process)
        yield Served(process, banner["opendeploy local gateway"], banner["dashboard token"])
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=15)


def test_serve_prints_the_base_url_and_a_dashboard_token(served: Served) -> None:
    assert served.base_url.startswith("http://127.0.0.1:") and served.base_url.endswith("/api")
    assert served.token.startswith("od_k") and len(served.token) == 47


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_cleanly_without_a_traceback(served: Served, sig: signal.Signals) -> None:
    served.process.send_signal(sig)
    assert served.process.wait(timeout=15) == 0
    stderr = served.process.stderr.read() if served.process.stderr else ""
    assert "Traceback" not in stderr and "gateway stopped" in stderr


def test_serve_refuses_a_port_in_use(served: Served, tmp_path: Path) -> None:
    port = served.base_url.rsplit(":", 1)[1].removesuffix("/api")
    result = subprocess.run(
        [str(ODPLAN), "gateway", "serve", "--port", port, "--db", ":memory:", *SIMULATED],
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(tmp_path),
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "Error:" in result.stderr


def test_serve_takes_faults_as_flags(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            str(ODPLAN),
            "gateway",
            "serve",
            "--port",
            "0",
            "--db",
            ":memory:",
            "--fault",
            "kind=error,route=/api/v1/regions/,count=1,status=502",
            *SIMULATED,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    try:
        banner = _read_banner(process)
        headers = {"Authorization": f"Bearer {banner['dashboard token']}"}
        url = banner["opendeploy local gateway"] + "/v1/regions/"
        assert httpx.get(url, headers=headers).status_code == 502
        assert httpx.get(url, headers=headers).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)


def test_serve_rejects_a_malformed_fault_flag(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(ODPLAN), "gateway", "serve", "--db", ":memory:", "--fault", "kind=meteor"],
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(tmp_path),
    )
    assert result.returncode == 1 and "unknown fault kind" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq") and shutil.which("zip")),
    reason="the skill flow needs curl, jq and zip",
)
def test_the_skills_documented_first_deploy_flow_passes_with_curl_and_jq(
    served: Served, tmp_path: Path
) -> None:
    _run_skill_flow(served, tmp_path)


@pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq") and shutil.which("zip")),
    reason="the skill flow needs curl, jq and zip",
)
def test_the_skills_flow_passes_against_the_documented_profile(
    served_documented: Served, tmp_path: Path
) -> None:
    _run_skill_flow(served_documented, tmp_path)
    headers = {"Authorization": f"Bearer {served_documented.token}"}
    gone = httpx.delete(f"{served_documented.base_url}/v1/services/x", headers=headers)
    assert (gone.status_code, gone.text) == (404, "404 page not found")


def _run_skill_flow(served: Served, tmp_path: Path) -> None:
    env = {
        **_env(tmp_path),
        "OD_GATEWAY": served.base_url,
        "HOME": str(tmp_path),
        "OD_ENVIRONMENT": "production",
    }
    result = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "APP_URL=https://skill-flow-app.opendeploy.run" in result.stdout
    auth = tmp_path / ".opendeploy" / "auth.json"
    assert oct(auth.stat().st_mode & 0o777) == "0o600"
    assert "od_a" not in result.stdout + result.stderr  # the credential is never printed
