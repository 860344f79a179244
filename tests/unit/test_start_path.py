"""What an `odplan` process imports before it can answer (issue 13's benchmark: each apply is a
new process, and its imports were most of odplan's own overhead).

A real `odplan plan` and `odplan apply` run in a fresh interpreter against a local gateway over
HTTP; afterwards the interpreter must not hold the modules that were once on this path for
nothing: networkx (the action graph is `graphlib` now), httpx's own command line (rich.syntax,
pygments), the WebSocket stack (only a build-log stream needs it), the analyzer, the emulator,
the local runtime, the web server. A module count (not a time: the machine is shared) catches a
slower creep.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from opendeploy_plan.engine.local_platform import stop_platform
from opendeploy_plan.gateway import WAIT_SCALE_ENV
from tests.cli_child import odplan
from tests.conftest import FAST_PHASES, running_gateway

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fastapi-postgres-redis"

NEVER_ON_THE_START_PATH = (
    "networkx",
    "deepdiff",
    "pygments",
    "rich.syntax",
    "rich.progress",
    "rich.table",
    "wsproto",
    "httpx_ws",
    "fastapi",
    "starlette",
    "uvicorn",
    "cryptography",
    "sqlite3",
    "opendeploy_plan.analyze",
    "opendeploy_plan.ops.adopt",
    "opendeploy_plan.emulator",
    "opendeploy_plan.runtime",
)
# `odplan apply` held 582 modules (interpreter included) when this was written, 948 before
# issue 13's round; the cap leaves room for library upgrades, not for a new heavy import.
MAX_MODULES = 680

PROBE = """
import sys
from opendeploy_plan.cli import main
try:
    main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
else:
    code = 0
heavy = {heavy!r}
print("EXIT=%s" % code)
print("HEAVY=" + ",".join(sorted(m for m in heavy if m in sys.modules)))
print("MODULES=%d" % len(sys.modules))
"""


def run_probe(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, int]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=NEVER_ON_THE_START_PATH), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=240,
    )
    lines = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert "EXIT" in lines, done.stderr[-2000:]
    return int(lines["EXIT"] or 0), lines["HEAVY"], int(lines["MODULES"])


def test_version_imports_nothing_heavy() -> None:
    probe = (
        "import sys\n"
        "from opendeploy_plan.cli import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('httpx', 'pydantic', 'rich', 'yaml', 'networkx', 'asyncio')\n"
        "print('HEAVY=' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY=\n" in out, out


def test_httpx_command_line_still_works_after_odplan_deferred_it() -> None:
    probe = (
        "import sys\n"
        "import opendeploy_plan.cli\n"
        "opendeploy_plan.cli.main(['--version'], standalone_mode=False)\n"
        "import httpx\n"
        "assert 'rich.syntax' not in sys.modules and 'pygments' not in sys.modules\n"
        "httpx.main(['--help'])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--method" in done.stdout  # httpx's own usage text: the real module ran


def test_importing_the_cli_leaves_the_process_as_it_is() -> None:
    """The process tuning (gc, pydantic plugins, httpx's CLI) is made by a command line that
    runs, not by an import: a tool or a test that imports odplan keeps its own settings."""
    probe = (
        "import gc, os, sys\n"
        "before = gc.get_threshold()\n"
        "import opendeploy_plan.cli\n"
        "assert gc.get_threshold() == before, gc.get_threshold()\n"
        "assert 'PYDANTIC_DISABLE_PLUGINS' not in os.environ\n"
        "assert 'httpx._main' not in sys.modules\n"
        "opendeploy_plan.cli.main(['--version'], standalone_mode=False)\n"
        "assert gc.get_threshold()[0] == 10_000, gc.get_threshold()\n"
        "assert os.environ['PYDANTIC_DISABLE_PLUGINS'] == '__all__'\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.timeout(600)
def test_plan_and_apply_keep_heavy_modules_off_their_path(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns(".opendeploy"))
    home = tmp_path / "home"
    home.mkdir()
    with running_gateway(**FAST_PHASES) as gateway:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OD_", "OPDEPLOY_"))}
        env.update(
            HOME=str(home),
            OPDEPLOY_AUTH_FILE=str(home / "auth.json"),
            OPDEPLOY_LOG_DIR=str(home / "logs"),
            OD_API_KEY=gateway.dashboard_token,
            OD_GATEWAY=gateway.base_url,
            SHORTENER_ADMIN_TOKEN="start-path-admin-token",
            NO_COLOR="1",
            **{WAIT_SCALE_ENV: "0.05"},
        )
        for args in (["plan"], ["apply", "--auto-approve"], ["apply", "--auto-approve"]):
            code, heavy, modules = run_probe(args, app, env)
            assert code == 0, args
            assert heavy == "", f"odplan {' '.join(args)} imported {heavy}"
            assert modules <= MAX_MODULES, f"odplan {' '.join(args)}: {modules} modules"


@pytest.mark.timeout(600)
def test_gateway_local_reaches_a_running_platform_without_loading_the_emulator(
    tmp_path: Path,
) -> None:
    """`--gateway local` with a platform in the background (`make demo`'s path) forwards over
    HTTP: the in-process emulator (FastAPI, ~0.5 s of CPU to import) is for when none runs."""
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns(".opendeploy"))
    home = tmp_path / "home"
    home.mkdir()
    try:
        started = odplan(
            home, "gateway", "start", "--port", "0", "--router-port", "0", "--runtime", "simulate"
        )
        assert started.returncode == 0, started.stdout + started.stderr
        login = odplan(home, "login", "--guest", "--gateway", "local", "--yes")
        assert login.returncode == 0, login.stdout + login.stderr
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OD_", "OPDEPLOY_"))}
        env.update(HOME=str(home), SHORTENER_ADMIN_TOKEN="start-path-admin-token", NO_COLOR="1")
        code, heavy, modules = run_probe(["plan", "--gateway", "local"], app, env)
        assert code == 0
        assert heavy == "", f"odplan plan --gateway local imported {heavy}"
        assert modules <= MAX_MODULES, f"odplan plan --gateway local: {modules} modules"
    finally:
        stop_platform({"HOME": str(home)}, grace=5)
