"""`make demo`'s path as a test: the background local platform on the local runtime applies
examples/hello-postgres, the report's live URL is the router's, the app answers with a row
read from the real PostgreSQL, and `odplan gateway stop` stops the app with the platform."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from opendeploy_plan.engine.local_platform import read_record, stop_platform
from opendeploy_plan.runtime import find_postgres, unprivileged_user
from tests.cli_child import odplan as run_odplan

from .conftest import reachable_tmp, wait_for

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hello-postgres"


def odplan(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_odplan(home, *args, cwd=cwd, timeout=300)  # the demo builds a real app


def app_pids(runtime_dir: Path) -> list[int]:
    """Processes whose command line names this test's runtime folder (ours, by path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(runtime_dir).encode() in cmdline:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(
    find_postgres(unprivileged_user()) is None,
    reason="needs PostgreSQL (on PATH, in /usr/lib/postgresql, or the `local` extra)",
)
def test_the_demo_example_answers_with_a_row_from_postgres_until_stopped() -> None:
    work = reachable_tmp("odplan-demo-")
    home, runtime_dir = work / "home", work / "runtime"
    home.mkdir()
    try:
        started = odplan(
            home, "gateway", "start", "--port", "0", "--router-port", "0",
            "--runtime", "local", "--runtime-dir", str(runtime_dir),
        )  # fmt: skip
        assert started.returncode == 0, started.stdout + started.stderr
        record = read_record(home / ".opendeploy" / "local")
        assert record is not None and record.runtime == "local"

        assert odplan(home, "login", "--guest", "--gateway", "local", "--yes").returncode == 0
        manifest = str(EXAMPLE / "opendeploy.yaml")
        applied = odplan(home, "apply", "--gateway", "local", "--auto-approve", "-f", manifest)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        url = f"http://hello-postgres.localhost:{record.router_port}"
        assert url in applied.stdout, "the report's live URL is the local router's"
        assert "opendeploy.run" not in applied.stdout.split("Live URL", 1)[1].split("\n")[0]

        def get() -> httpx.Response:
            return httpx.get(
                f"http://127.0.0.1:{record.router_port}/",
                headers={"Host": f"hello-postgres.localhost:{record.router_port}"},
                timeout=10,
            )

        assert wait_for(lambda: get().status_code == 200, timeout=30)
        answer = json.loads(get().text)
        assert answer["message"].startswith("Hello from PostgreSQL")
        assert answer["row"]["table"] == "greetings" and answer["database"].startswith("PostgreSQL")
        assert re.match(r"\d+", str(answer["visits"]))

        running = app_pids(runtime_dir)
        assert running, "the app and its database run from the runtime folder"
        stopped = odplan(home, "gateway", "stop")
        assert stopped.returncode == 0, stopped.stderr
        deadline = time.monotonic() + 15
        while app_pids(runtime_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert app_pids(runtime_dir) == [], "stop leaves no app or database behind"
        with pytest.raises(httpx.HTTPError):
            get()
    finally:
        stop_platform({"HOME": str(home)}, grace=5)  # checks the pid is still the platform
        shutil.rmtree(work, ignore_errors=True)
