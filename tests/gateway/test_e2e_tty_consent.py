"""The interactive consent prompt, through a real pseudo-terminal and a real `odplan` process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_on_a_tty


def odplan_on_a_tty(home: Path, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "HOME": str(home),
        "OPDEPLOY_LOG_DIR": str(home / "logs"),
        "PATH": os.environ.get("PATH", ""),
    }
    return run_on_a_tty([sys.executable, "-m", "opendeploy_plan", *args], env, answer, timeout=60)


def login_on_a_tty(live: Any, home: Path, answer: str) -> subprocess.CompletedProcess[str]:
    return odplan_on_a_tty(home, answer, "login", "--guest", "--gateway", live.base_url)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
@pytest.mark.parametrize("answer", ["n", ""], ids=["n", "enter"])
def test_answering_no_writes_nothing(live_gateway: Any, tmp_path: Path, answer: str) -> None:
    done = login_on_a_tty(live_gateway, tmp_path / "home", answer)
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


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_logout_asks_and_enter_keeps_the_credential(live_gateway: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert login_on_a_tty(live_gateway, home, "y").returncode == 0
    saved = home / ".opendeploy" / "auth.json"
    logout = ("logout", "--gateway", live_gateway.base_url)

    kept = odplan_on_a_tty(home, "", *logout)  # Enter takes the default, which is "no"
    assert kept.returncode == 0, kept.stderr
    assert "Remove od_a***" in kept.stderr and "[y/N]" in kept.stderr
    assert "Nothing removed." in kept.stdout and saved.is_file()

    removed = odplan_on_a_tty(home, "y", *logout)
    assert removed.returncode == 0, removed.stderr
    assert "Removed od_a***" in removed.stdout and not saved.exists()
