"""Who may reach what (mode bits for the run-as user), handing folders over, the run-as user
chosen from the environment, and the ledger's record/forget on disk."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from opendeploy_plan.runtime import LogStream, ProcessLedger, Supervised
from opendeploy_plan.runtime.supervisor import (
    RunAs,
    _run_user,
    _start_ticks,
    hand_over,
    owned_by,
    reachable_by,
    unprivileged_user,
)

from .conftest import reachable_tmp

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")
STRANGER = RunAs("stranger", 54321, 54322)


@pytest.fixture
def tree() -> Iterator[Path]:
    folder = reachable_tmp("odplan-acl-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@root_only
def test_a_file_is_readable_by_other_group_or_owner_bits(tree: Path) -> None:
    target = tree / "file"
    target.write_text("x")
    target.chmod(0o640)  # root's, no bit for others
    assert not reachable_by(target, STRANGER)
    target.chmod(0o644)
    assert reachable_by(target, STRANGER)
    target.chmod(0o600)
    os.chown(target, STRANGER.uid, 0)
    assert reachable_by(target, STRANGER)  # owner bits
    target.chmod(0o044)
    assert not reachable_by(target, STRANGER)  # the owner's bits are the ones that count
    os.chown(target, 0, STRANGER.gid)
    target.chmod(0o040)
    assert reachable_by(target, STRANGER)  # group bits
    target.chmod(0o404)
    assert not reachable_by(target, STRANGER)
    target.chmod(0o111)  # executable is not readable
    os.chown(target, 0, 0)
    assert not reachable_by(target, STRANGER)


@root_only
def test_every_parent_must_be_searchable_and_a_folder_listable(tree: Path) -> None:
    folder = tree / "a" / "b"
    folder.mkdir(parents=True)
    target = folder / "file"
    target.write_text("x")
    target.chmod(0o644)
    (tree / "a").chmod(0o700)
    assert not reachable_by(target, STRANGER)
    (tree / "a").chmod(0o711)  # search only is enough for a parent
    assert reachable_by(target, STRANGER)
    folder.chmod(0o711)
    assert reachable_by(target, STRANGER)
    assert not reachable_by(folder, STRANGER)  # the folder itself: read and search
    folder.chmod(0o755)
    assert reachable_by(folder, STRANGER)
    folder.chmod(0o744)
    assert not reachable_by(target, STRANGER)
    assert not reachable_by(folder, STRANGER)  # readable but not searchable
    assert not reachable_by(tree / "missing", STRANGER)
    assert reachable_by(target, None)
    assert not reachable_by(tree / "missing", None)


@root_only
def test_hand_over_owns_the_tree_but_not_what_its_links_point_to(tree: Path) -> None:
    outside = tree / "outside"
    outside.write_text("keep")
    inner = tree / "build" / "sub"
    inner.mkdir(parents=True)
    (inner / "file").write_text("x")
    (inner / "link").symlink_to(outside)
    assert not owned_by(tree / "build", STRANGER)
    assert owned_by(tree / "build", None)
    hand_over(tree / "build", STRANGER)
    for path in (tree / "build", inner, inner / "file", inner / "link"):
        assert path.lstat().st_uid == STRANGER.uid and path.lstat().st_gid == STRANGER.gid
        assert owned_by(path, STRANGER)
    assert outside.stat().st_uid == 0
    hand_over(outside, None)  # no run-as user: nothing changes
    assert outside.stat().st_uid == 0


@root_only
def test_the_run_as_user_from_the_environment_must_exist_and_not_be_root(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _run_user("nobody").name == "nobody"
    assert _run_user("nobody").uid == 65534
    with pytest.raises(ValueError, match="not an existing unprivileged user"):
        _run_user("root")
    with pytest.raises(ValueError, match="ODPLAN_RUN_USER=odplan-no-such-user"):
        _run_user("odplan-no-such-user")
    monkeypatch.setenv("ODPLAN_RUN_USER", "nobody")
    chosen = unprivileged_user()
    assert chosen is not None and chosen.name == "nobody"
    monkeypatch.delenv("ODPLAN_RUN_USER")
    default = unprivileged_user()
    assert default is not None and default.uid != 0 and default.name != "root"


def test_the_ledger_records_and_forgets_by_group(tmp_path: Path) -> None:
    path = tmp_path / "state" / "processes.json"
    ledger = ProcessLedger(path)
    first = Supervised(
        ["sleep", "30"],
        cwd=Path("/tmp"),
        env={"PATH": "/usr/bin:/bin"},
        log=LogStream(),
        phase="building",
        run_as=unprivileged_user(),
    )
    second = Supervised(
        ["sleep", "30"],
        cwd=Path("/tmp"),
        env={"PATH": "/usr/bin:/bin"},
        log=LogStream(),
        phase="runtime",
        run_as=unprivileged_user(),
    )
    try:
        ledger.record(first)
        ledger.record(second)
        data = json.loads(path.read_text())
        assert data == {
            str(first.pgid): {"ticks": _start_ticks(first.pid), "label": "building"},
            str(second.pgid): {"ticks": _start_ticks(second.pid), "label": "runtime"},
        }
        assert data[str(first.pgid)]["ticks"] is not None
        assert path.stat().st_mode & 0o777 == 0o600
        ledger.forget(first)
        assert list(json.loads(path.read_text())) == [str(second.pgid)]
        ledger.forget(first)  # twice: no error
        assert ledger.sweep() == [second.pgid]
        assert second.wait(5) is not None
        assert first.alive()
    finally:
        first.stop(1)
        second.stop(1)
    assert _start_ticks(first.pid) is None  # reaped: no such process


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '"text"'])
def test_an_unreadable_ledger_sweeps_nothing_and_is_cleared(tmp_path: Path, content: str) -> None:
    path = tmp_path / "processes.json"
    path.write_text(content)
    assert ProcessLedger(path).sweep() == []
    assert json.loads(path.read_text()) == {}
