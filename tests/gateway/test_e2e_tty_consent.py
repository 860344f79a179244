"""The interactive consent prompt, through a real pseudo-terminal and a real `odplan` process."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def login_on_a_tty(live: Any, home: Path, answer: str) -> subprocess.CompletedProcess[str]:
    controller, terminal = pty.openpty()
    env = {
        "HOME": str(home),
        "OPDEPLOY_LOG_DIR": str(home / "logs"),
        "PATH": os.environ.get("PATH", ""),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "opendeploy_plan", "login", "--guest", "--gateway", live.base_url],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    os.close(terminal)
    try:
        os.write(controller, answer.encode() + b"\n")
        out, err = process.communicate(timeout=60)
    finally:
        os.close(controller)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_answering_no_writes_nothing(live_gateway: Any, tmp_path: Path) -> None:
    done = login_on_a_tty(live_gateway, tmp_path / "home", "n")
    assert done.returncode == 1
    assert "Create one now?" in done.stderr
    assert "client-guests/register" in done.stderr, "the user sees what they approve"
    assert not (tmp_path / "home" / ".opendeploy" / "auth.json").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_answering_yes_creates_the_credential(live_gateway: Any, tmp_path: Path) -> None:
    done = login_on_a_tty(live_gateway, tmp_path / "home", "y")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "home" / ".opendeploy" / "auth.json").is_file()
    assert "Bind URL:" in done.stdout
