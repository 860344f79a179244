"""The README's tour, typed verbatim into a shell in a pseudo-terminal, in a fresh clone.

Issue 16 item 1: a new user goes from clone to `odplan status` on the local gateway using only
the README's words. The test clones this repository (`git clone`, so only committed paths
exist), starts `bash` with an empty HOME and a PATH without `odplan` on it, and types each line
of the README's tour block as written, answering `yes` when apply asks.

One shortcut, to avoid a second `pip install` per run: the clone's `.venv` is a symlink to this
checkout's `.venv` (and the clone's `pyproject.toml` is dated back so `make install` sees that
virtualenv as current). So `make install` and `. .venv/bin/activate` run for real and must put
`odplan` on PATH, but the `odplan` they find is this checkout's (the code under test), not a
second install of the clone's copy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PROMPT = "TOUR-PROMPT>"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def tour_commands(readme: str) -> list[str]:
    """The lines of the sh block that follows the README's `<!-- tour: … -->` marker."""
    marker = readme.index("<!-- tour:")
    block = re.search(r"```sh\n(.*?)```", readme[marker:], re.S)
    assert block is not None, "the README's tour has no ```sh block after its marker"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_tour_block_goes_from_clone_to_status_on_the_local_gateway() -> None:
    commands = tour_commands((REPO_ROOT / "README.md").read_text())
    assert commands[0] == "make install"
    assert any(c.startswith(". .venv/bin/activate") for c in commands)
    assert commands[-1].split("#")[0].strip() == "odplan status"


def _clone(tmp_path: Path) -> Path:
    clone = tmp_path / "odplan"
    subprocess.run(
        ["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], check=True, capture_output=True
    )
    venv = REPO_ROOT / ".venv"
    if not (venv / "bin" / "odplan").exists():
        pytest.skip("this checkout has no .venv with odplan (run make install)")
    (clone / ".venv").symlink_to(venv, target_is_directory=True)
    old = 946_684_800  # 2000-01-01: older than the venv's install stamp
    os.utime(clone / "pyproject.toml", (old, old))
    return clone


def _shell(clone: Path, home: Path) -> pexpect.spawn:
    path = os.pathsep.join(
        p
        for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
        if not p.startswith(str(REPO_ROOT))
        and p != str(Path(sys.executable).parent)
        and "/.venv/" not in p + "/"
    )
    env = {
        "HOME": str(home),
        "PATH": path,
        "TERM": "xterm",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "PS1": PROMPT,
    }
    shell = pexpect.spawn(
        "bash",
        ["--norc", "--noprofile"],
        cwd=str(clone),
        env=env,
        encoding="utf-8",
        timeout=300,
        dimensions=(50, 200),
    )
    shell.expect_exact(PROMPT)
    return shell


def _run(shell: pexpect.spawn, command: str) -> str:
    """Type `command`, answer apply's questions, return what it printed; fail on exit != 0."""
    shell.sendline(command)
    seen = ""
    while True:
        index = shell.expect_exact(["Enter a value:", "Create one now?", PROMPT])
        seen += shell.before
        if index == 0:
            shell.sendline("yes")
        elif index == 1:
            shell.sendline("y")
        else:
            break
    shell.sendline("echo EXIT=$?")
    shell.expect(r"EXIT=(\d+)")
    code = int(shell.match.group(1))
    shell.expect_exact(PROMPT)
    assert code == 0, f"`{command}` exited {code}:\n{seen}"
    return seen


def test_readme_tour_runs_verbatim_in_a_fresh_clone(tmp_path: Path) -> None:
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("needs git and make")
    clone = _clone(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    shell = _shell(clone, home)
    try:
        shell.sendline("command -v odplan || echo NOT-ON-PATH")
        shell.expect_exact("NOT-ON-PATH")  # before the tour, odplan is not on PATH
        shell.expect_exact(PROMPT)
        outputs = {
            command: _run(shell, command)
            for command in tour_commands((clone / "README.md").read_text())
        }
    finally:
        shell.sendline("exit")
        shell.close(force=True)
    status = outputs[next(c for c in outputs if c.startswith("odplan status"))]
    assert "Gateway: local (remembered" in status
    assert re.search(r"hello\s+success", status), status
    applied = outputs[next(c for c in outputs if c.startswith("odplan apply"))]
    assert "Deployment successful" in applied
    assert (home / "hello" / ".opendeploy" / "gateway.json").is_file()
