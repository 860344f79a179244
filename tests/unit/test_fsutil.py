"""`write_atomic` and `ensure_private_dir`: owner-only, atomic, no leftovers, no collisions."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from opendeploy_plan import fsutil
from opendeploy_plan.fsutil import ensure_private_dir, write_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_the_data_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "plan.bin"
    write_atomic(target, b"hello")
    assert target.read_bytes() == b"hello"
    assert _mode(target) == 0o600
    write_atomic(target, "text é")
    assert target.read_text(encoding="utf-8") == "text é"


def test_mode_holds_even_when_the_old_fixed_temp_name_exists(tmp_path: Path) -> None:
    target = tmp_path / "plan.bin"
    # The old writer reused `.plan.bin.tmp` and kept its (world-readable) mode.
    leftover = tmp_path / ".plan.bin.tmp"
    leftover.write_bytes(b"old")
    leftover.chmod(0o644)
    write_atomic(target, b"new")
    assert _mode(target) == 0o600
    write_atomic(target, b"newer", mode=0o640)
    assert _mode(target) == 0o640


def test_mode_ignores_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_atomic(tmp_path / "f", b"x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "f") == 0o600


def test_a_failed_write_leaves_no_temporary_file_and_the_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "plan.bin"
    target.write_bytes(b"old")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsutil.os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.bin"]
    assert target.read_bytes() == b"old"


def test_the_temporary_file_is_a_hidden_sibling_renamed_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same folder, so the rename is atomic (a temp file in /tmp may be another filesystem,
    and os.replace across filesystems fails or copies); hidden, so no listing shows it."""
    renamed: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def recording_replace(src: str, dst: str) -> None:
        renamed.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(fsutil.os, "replace", recording_replace)
    target = tmp_path / "plan.bin"
    write_atomic(target, b"x")
    [(temp, final)] = renamed
    assert final == target
    assert temp.parent == tmp_path
    assert temp.name.startswith(".plan.bin.") and temp.name.endswith(".tmp"), temp.name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.bin"]


def test_concurrent_writers_never_collide(tmp_path: Path) -> None:
    target = tmp_path / "plan.bin"
    errors: list[BaseException] = []
    payloads = [bytes([n]) * 200_000 for n in range(8)]

    def write(data: bytes) -> None:
        try:
            for _ in range(5):
                write_atomic(target, data)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert target.read_bytes() in payloads  # one whole payload, never a mix
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.bin"]


def test_private_dir_is_created_0700_and_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    ensure_private_dir(folder)
    assert _mode(folder) == 0o700
    folder.chmod(0o755)
    ensure_private_dir(folder)
    assert _mode(folder) == 0o700


def test_private_dir_can_leave_an_existing_folder_alone(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    ensure_private_dir(folder, tighten_existing=False)
    assert _mode(folder) == 0o755
