"""The runtime's state files are written whole and private: parents are created, the old file
is replaced, and a temporary file left over by a crashed writer (longer, world-readable) leaves
neither its tail nor its mode in the result."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from opendeploy_plan.runtime.files import write_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_private_creates_replaces_and_keeps_it_private(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "ledger.json"
    write_private(target, "first version")
    assert target.read_text() == "first version" and _mode(target) == 0o600
    write_private(target, "2")
    assert target.read_text() == "2" and _mode(target) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["ledger.json"]


def test_a_leftover_temporary_file_leaves_no_trace(tmp_path: Path) -> None:
    target = tmp_path / "releases.json"
    leftover = tmp_path / f".releases.json.{os.getpid()}.tmp"
    leftover.write_text("a much longer text from a writer that crashed")
    leftover.chmod(0o644)
    write_private(target, "short")
    assert target.read_text() == "short"
    assert _mode(target) == 0o600
    assert not leftover.exists()
