"""The consent prompt for creating a guest credential defaults to *no* (second mutation audit,
issue 19; cli/options.consent_from_flags): pressing Enter on a real pseudo-terminal creates
nothing and exits 1; only an explicit yes does."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.test_e2e_tty_consent import login_on_a_tty


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_pressing_enter_at_the_consent_prompt_creates_nothing(
    live_gateway: Any, tmp_path: Path
) -> None:
    done = login_on_a_tty(live_gateway, tmp_path / "home", "")
    assert done.returncode == 1, done.stderr
    assert "Create one now? [y/N]" in done.stderr
    assert not (tmp_path / "home" / ".opendeploy" / "auth.json").exists()
    assert "Bind URL:" not in done.stdout
