"""Issue 8's acceptance: `odplan init` then `odplan plan --gateway local` works on every example.

Each example is copied without its manifest, `odplan init` writes a new one, and `odplan plan`
against the embedded local gateway (HOME in a temp dir) plans the whole project. The secrets the
written manifest references are provided, as a user would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
APPS = sorted(p.name for p in EXAMPLES.iterdir() if (p / "opendeploy.yaml").is_file())


def odplan(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "opendeploy_plan", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_example_is_covered() -> None:
    assert len(APPS) >= 5


@pytest.mark.parametrize("app", APPS)
def test_init_then_plan_on_the_local_gateway(app: str, tmp_path: Path) -> None:
    folder = tmp_path / app
    shutil.copytree(EXAMPLES / app, folder, ignore=shutil.ignore_patterns(".opendeploy"))
    (folder / "opendeploy.yaml").unlink()
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OD_", "OPDEPLOY_"))}
    env.update({"HOME": str(home), "NO_COLOR": "1"})

    init = odplan("init", ".", cwd=folder, env=env)
    assert init.returncode == 0, init.stdout + init.stderr
    written = (folder / "opendeploy.yaml").read_text()
    for name in set(re.findall(r"secrets\.([A-Z_][A-Z0-9_]*)", written)):
        env[name] = f"value-of-{name}"

    # A fresh local gateway is a first deploy (a guest); api-worker needs an account's caps.
    account = odplan("gateway", "account", cwd=folder, env=env)
    assert account.returncode == 0, account.stdout + account.stderr
    plan = odplan("plan", "--gateway", "local", "--detailed-exitcode", cwd=folder, env=env)
    assert plan.returncode == 2, plan.stdout + plan.stderr  # a new project: changes
    assert "+ project" in plan.stdout
    assert re.search(r"Plan: \d+ to create", plan.stdout)
    assert "Traceback" not in plan.stderr
