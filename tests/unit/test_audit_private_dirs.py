"""`ensure_private_dir` makes every folder it creates owner-only, the parents too, whatever the
umask (mutation audit, issue 19): `~/.opendeploy` is created with its `logs/` or `local/` in
one call, and a parent left 0755 would list what is inside to every user."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from opendeploy_plan.fsutil import ensure_private_dir


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_parents_it_creates_are_owner_only_too(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        ensure_private_dir(tmp_path / ".opendeploy" / "local" / "gateway")
    finally:
        os.umask(old)
    assert _mode(tmp_path / ".opendeploy") == 0o700
    assert _mode(tmp_path / ".opendeploy" / "local") == 0o700
    assert _mode(tmp_path / ".opendeploy" / "local" / "gateway") == 0o700
