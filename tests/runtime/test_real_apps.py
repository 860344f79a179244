"""The real-apps sweep: small apps written as a new user would write them (each with the
opendeploy.yaml that `odplan init` wrote for it, in fixtures/real-apps/), deployed the way
a user does it: `odplan gateway start --runtime local` in a private HOME, `odplan apply`,
a GET of the printed URL through the router, a one-line change, `odplan apply` again, the new
answer, `odplan gateway stop`, and no process of the platform left.

An app is skipped only when this machine lacks its toolchain (python3 or node + npm usable by
the build user), with that as the reason. The download caches live in one temporary folder
for the whole module (set ODPLAN_RUNTIME_CACHE to reuse a warm one)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from opendeploy_plan.engine.local_platform import read_record, stop_platform
from opendeploy_plan.runtime import Toolchains, unprivileged_user
from tests.cli_child import odplan as run_odplan

from .conftest import FIXTURES, reachable_tmp, wait_for
from .test_demo_example import app_pids

REAL_APPS = FIXTURES / "real-apps"
TOOLS = Toolchains.detect(unprivileged_user())
LIVE_URL = re.compile(r"\*\*Live URL:\*\* (http://([a-z0-9.-]+\.localhost):(\d+))")


@dataclass(frozen=True)
class App:
    """A fixture app, the line a user changes, and what the first and second apply serve."""

    name: str
    stack: str  # "python" or "node": what the machine must have
    file: str
    before: str
    after: str
    path: str = "/"
    # A line the build log must show (a fallback has to say what it did and why).
    build_log_says: str = ""


APPS = [
    App("flask-gunicorn", "python", "app.py", "flask says hello v1", "flask says hello v2"),
    App(
        "fastapi-pyproject",
        "python",
        "src/notes_api/main.py",
        "fastapi says hello v1",
        "fastapi says hello v2",
    ),
    App(
        "poetry-flask",
        "python",
        "app.py",
        "poetry flask says hello v1",
        "poetry flask says hello v2",
        build_log_says="dependencies from pyproject.toml [tool.poetry.dependencies]",
    ),
    App(
        "py-docker-subfolder",
        "python",
        "backend/wsgi.py",
        "inventory api v1",
        "inventory api v2",
        build_log_says="Dockerfile read for its CMD and port",
    ),
    App("express-npm-ci", "node", "index.js", "express says hello v1", "express says hello v2"),
    App(
        "node-ts-build",
        "node",
        "src/server.ts",
        "typescript says hello v1",
        "typescript says hello v2",
        build_log_says="$ npm run build",
    ),
    App("static-vite", "node", "index.html", "vite landing v1", "vite landing v2"),
    App("static-plain", "static", "index.html", "plain static v1", "plain static v2"),
    App(
        "node-pnpm",
        "node",
        "server.js",
        "pnpm app says hello v1",
        "pnpm app says hello v2",
        build_log_says="" if TOOLS.pnpm else "pnpm (lockfile pnpm-lock.yaml) is not installed",
    ),
    App(
        "node-yarn",
        "node",
        "app.js",
        "yarn app says hello v1",
        "yarn app says hello v2",
        build_log_says="" if TOOLS.yarn else "yarn (lockfile yarn.lock) is not installed",
    ),
]


def missing_toolchain(stack: str) -> str | None:
    if stack == "python" and TOOLS.python is None:
        return "python3 usable by the build user"
    if stack == "node" and (TOOLS.node is None or TOOLS.npm is None):
        return "node and npm usable by the build user"
    return None


@pytest.fixture(scope="module")
def download_cache() -> Iterator[Path]:
    """One cache folder for the module's apps: temporary unless the caller names one."""
    if named := os.environ.get("ODPLAN_RUNTIME_CACHE"):
        yield Path(named)
        return
    folder = reachable_tmp("odplan-real-apps-cache-")
    os.environ["ODPLAN_RUNTIME_CACHE"] = str(folder)
    try:
        yield folder
    finally:
        del os.environ["ODPLAN_RUNTIME_CACHE"]
        shutil.rmtree(folder, ignore_errors=True)


def odplan(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_odplan(home, *args, cwd=cwd, timeout=300)  # a cold build downloads packages


class Platform:
    """`odplan gateway start --runtime local` in a private HOME; `stop()` checks no process
    of its runtime folder is left."""

    def __init__(self, work: Path) -> None:
        self.home, self.runtime_dir = work / "home", work / "runtime"
        self.home.mkdir()
        started = odplan(
            self.home, "gateway", "start", "--port", "0", "--router-port", "0",
            "--runtime", "local", "--runtime-dir", str(self.runtime_dir),
        )  # fmt: skip
        assert started.returncode == 0, started.stdout + started.stderr
        record = read_record(self.home / ".opendeploy" / "local")
        assert record is not None and record.runtime == "local", started.stdout
        self.router_port = record.router_port

    def apply(self, app_dir: Path) -> subprocess.CompletedProcess[str]:
        return odplan(
            self.home, "apply", "--auto-approve", "--gateway", "local", "--yes", cwd=app_dir
        )

    def get(self, url: str, path: str) -> httpx.Response:
        match = LIVE_URL.search(f"**Live URL:** {url}")
        assert match is not None, url
        return httpx.get(
            f"http://127.0.0.1:{match[3]}{path}",
            headers={"Host": f"{match[2]}:{match[3]}"},
            timeout=10,
        )

    def stop(self) -> None:
        stopped = odplan(self.home, "gateway", "stop")
        assert stopped.returncode == 0, stopped.stderr
        assert wait_for(lambda: not app_pids(self.runtime_dir), timeout=15), (
            "gateway stop leaves no app process behind"
        )


@pytest.fixture
def platform(download_cache: Path) -> Iterator[Platform]:
    work = reachable_tmp("odplan-real-app-")
    started: Platform | None = None
    try:
        started = Platform(work)
        yield started
        started.stop()
    finally:
        stop_platform({"HOME": str(work / "home")}, grace=5)  # checks the pid is the platform
        shutil.rmtree(work, ignore_errors=True)


def app_copy(platform: Platform, name: str) -> Path:
    target = platform.home.parent / "src" / name
    shutil.copytree(REAL_APPS / name, target, ignore=shutil.ignore_patterns(".opendeploy"))
    for folder, _, _ in os.walk(target.parent):
        os.chmod(folder, 0o755)
    return target


def live_url(applied: subprocess.CompletedProcess[str]) -> str:
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    match = LIVE_URL.search(applied.stdout)
    assert match is not None, applied.stdout[-2000:]
    return match[1]


@pytest.mark.slow
@pytest.mark.parametrize("app", APPS, ids=[app.name for app in APPS])
def test_a_real_app_answers_then_serves_a_one_line_change(platform: Platform, app: App) -> None:
    if missing := missing_toolchain(app.stack):
        pytest.skip(f"{app.name} needs {missing}, which this machine lacks")
    source = app_copy(platform, app.name)
    started = time.monotonic()
    url = live_url(platform.apply(source))
    first = platform.get(url, app.path)
    assert first.status_code == 200 and app.before in first.text, (first.status_code, first.text)
    built_in = time.monotonic() - started

    changed = source / app.file
    text = changed.read_text()
    assert app.before in text
    changed.write_text(text.replace(app.before, app.after))
    started = time.monotonic()
    assert live_url(platform.apply(source)) == url, "a redeploy keeps the URL"
    second = platform.get(url, app.path)
    assert second.status_code == 200 and app.after in second.text, second.text
    redeployed_in = time.monotonic() - started

    status = odplan(platform.home, "status", "--gateway", "local", cwd=source)
    assert status.returncode == 0, status.stderr
    assert "success" in status.stdout and "SIMULATED" not in status.stdout, status.stdout
    if app.build_log_says:
        log = odplan(platform.home, "logs", "--build", "--gateway", "local", cwd=source)
        assert app.build_log_says in log.stdout, log.stdout
        assert "\x1b[" not in log.stdout, "build logs carry no colour codes"
    print(f"{app.name}: first apply {built_in:.1f} s, one-line redeploy {redeployed_in:.1f} s")


@pytest.mark.slow
def test_an_app_that_ignores_port_fails_fast_naming_the_port_it_listens_on(
    platform: Platform,
) -> None:
    if missing := missing_toolchain("node"):
        pytest.skip(f"node-fixed-port needs {missing}, which this machine lacks")
    source = app_copy(platform, "node-fixed-port")
    started = time.monotonic()
    applied = platform.apply(source)
    took = time.monotonic() - started
    assert applied.returncode != 0
    output = applied.stdout + applied.stderr
    assert "the app listens on port 3000, not on the port it was given in PORT" in output
    assert took < 40, f"failed after {took:.0f} s: the health check's 60 s timeout, not early"
