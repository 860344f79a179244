"""The shared top-level modules' rules (mutation audit, round 6): the audit log's secret guard
and file modes, owner-only files and folders, diagnostics' order and formats, time parsing,
and the error root. Real files in a temporary folder.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from opendeploy_plan.auditlog import AuditLog, default_log_dir, is_secret_key, redact_fields
from opendeploy_plan.diagnostics import Diagnostic, has_errors, sorted_unique
from opendeploy_plan.errors import OdplanError
from opendeploy_plan.fsutil import ensure_private_dir, write_atomic
from opendeploy_plan.timestamps import parse_timestamp, timestamp_order

NOON = datetime(2026, 3, 4, 12, 0, 0, tzinfo=UTC)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- audit log ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "API-KEY",
        "apikey",
        "Bind_Sig",
        "bindsig",
        "DB_PASSWORD",
        "git_token",
        "TOKEN",
        "client_secret",
        "Authorization",
        "proxy-authorization",
    ],
)
def test_secret_looking_keys_are_guarded_in_any_case(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["keys", "api", "bind", "pass", "auth", "step", "count"])
def test_ordinary_keys_are_kept(key: str) -> None:
    assert not is_secret_key(key)


def test_redaction_reaches_nested_maps_and_lists_and_stringifies_the_rest() -> None:
    cleaned = redact_fields(
        {
            "outer": {"Password": "x", "keep": 1, "deeper": [{"TOKEN": "y", "ok": True}]},
            "when": NOON,
            "path": Path("/a/b"),
            "tags": ("a", "b"),
            "set": frozenset({"only"}),
            "none": None,
            "ratio": 0.5,
        }
    )
    assert cleaned == {
        "outer": {"keep": 1, "deeper": [{"ok": True}]},
        "when": str(NOON),
        "path": "/a/b",
        "tags": ["a", "b"],
        "set": ["only"],
        "none": None,
        "ratio": 0.5,
    }


def test_a_log_line_is_guarded_json_in_a_private_file(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "logs", now=lambda: NOON).bind(run="r1", api_key="nope")
    log.warn("step.one", n=2, secret_value="s", nested={"Token": "t", "x": "é"})
    path = tmp_path / "logs" / "2026-03-04.log"
    assert log.path == path
    [line] = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(line) == {
        "ts": "2026-03-04T12:00:00Z",
        "level": "warn",
        "step": "step.one",
        "run": "r1",
        "n": 2,
        "nested": {"x": "é"},
    }
    assert "é" in line  # written as UTF-8, not escaped
    assert _mode(path) == 0o600
    assert _mode(tmp_path / "logs") == 0o700


def test_the_log_date_is_the_utc_date(tmp_path: Path) -> None:
    late = datetime(2026, 3, 4, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    log = AuditLog(tmp_path, now=lambda: late)
    log.info("x")
    assert (tmp_path / "2026-03-05.log").is_file()
    line = json.loads((tmp_path / "2026-03-05.log").read_text())
    assert line["ts"] == "2026-03-05T04:30:00Z"


def test_an_existing_log_file_is_tightened_and_an_existing_folder_left_alone(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    path = folder / "2026-03-04.log"
    path.write_text("")
    path.chmod(0o644)
    AuditLog(folder, now=lambda: NOON).error("x")
    assert _mode(path) == 0o600
    assert _mode(folder) == 0o755


def test_a_failing_write_is_remembered_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    log = AuditLog(blocker / "logs", now=lambda: NOON)
    log.info("x")
    assert log.last_error is not None


def test_the_default_log_folder(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert default_log_dir(env) == tmp_path / ".opendeploy" / "logs"
    assert default_log_dir(env, local=True) == tmp_path / ".opendeploy" / "local" / "logs"
    override = {"HOME": str(tmp_path), "OPDEPLOY_LOG_DIR": str(tmp_path / "x")}
    assert default_log_dir(override, local=True) == tmp_path / "x"


# --- owner-only files -----------------------------------------------------------------------------


def test_an_atomic_write_replaces_the_file_with_the_mode_asked(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("old")
    path.chmod(0o666)
    write_atomic(path, "new ü")
    assert path.read_bytes() == "new ü".encode()
    assert _mode(path) == 0o600
    write_atomic(path, b"\x00bytes", mode=0o640)
    assert path.read_bytes() == b"\x00bytes" and _mode(path) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_failed_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "folder-in-the-way"
    target.mkdir()
    (target / "child").write_text("x")
    with pytest.raises(OSError):
        write_atomic(target, "data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder-in-the-way"]


def test_a_private_folder_is_0700_new_or_existing_unless_asked_not_to(tmp_path: Path) -> None:
    fresh = tmp_path / "a" / "b"
    old_umask = os.umask(0o022)
    try:
        ensure_private_dir(fresh)
    finally:
        os.umask(old_umask)
    assert _mode(fresh) == 0o700 and _mode(tmp_path / "a") == 0o700
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o755)
    ensure_private_dir(loose, tighten_existing=False)
    assert _mode(loose) == 0o755
    ensure_private_dir(loose)
    assert _mode(loose) == 0o700
    created = tmp_path / "created"
    ensure_private_dir(created, tighten_existing=False)
    assert _mode(created) == 0o700


# --- diagnostics ----------------------------------------------------------------------------------


def test_a_diagnostic_formats_with_file_line_and_column() -> None:
    diagnostic = Diagnostic("m.yaml", 7, 11, "error", "services.web.port", "bad", "fix it\nnow")
    assert diagnostic.location() == "m.yaml:7:11"
    assert diagnostic.format() == "m.yaml:7:11: error: services.web.port: bad"
    assert (
        diagnostic.format_long()
        == "m.yaml:7:11: error: services.web.port: bad\n    fix it\n    now"
    )
    whole = Diagnostic("m.yaml", 0, 0, "warning", "", "empty")
    assert whole.location() == "m.yaml"
    assert whole.format() == "m.yaml: warning: empty"
    assert whole.format_long() == whole.format()
    planner = Diagnostic("", 0, 0, "error", "services.web", "cycle")
    assert planner.format() == "error: services.web: cycle"
    assert diagnostic.to_json() == {
        "severity": "error",
        "summary": "bad",
        "detail": "fix it\nnow",
        "file": "m.yaml",
        "line": 7,
        "col": 11,
        "path": "services.web.port",
    }


def test_diagnostics_sort_by_position_errors_first_and_repeats_drop() -> None:
    a = Diagnostic("f", 2, 1, "warning", "", "w")
    b = Diagnostic("f", 2, 1, "error", "", "e")
    c = Diagnostic("f", 1, 9, "warning", "", "first")
    d = Diagnostic("f", 2, 1, "error", "", "e", "another detail")
    assert sorted_unique([a, b, c, d]) == [c, b, a]
    assert has_errors([a, b]) and not has_errors([a, c]) and not has_errors([])
    assert b.is_error and not a.is_error


# --- times ----------------------------------------------------------------------------------------


def test_times_are_read_as_times_not_text() -> None:
    earlier = "2026-01-01T10:00:00+02:00"
    later = "2026-01-01T09:00:00Z"
    assert timestamp_order(earlier) < timestamp_order(later)
    assert parse_timestamp("2026-01-01T09:00:00") == datetime(2026, 1, 1, 9, tzinfo=UTC)
    assert parse_timestamp("  2026-01-01T09:00:00.5Z ") == datetime(
        2026, 1, 1, 9, 0, 0, 500000, tzinfo=UTC
    )
    naive = datetime(2026, 1, 1, 9)
    assert parse_timestamp(naive) == datetime(2026, 1, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize("value", ["", "   ", "yesterday", None, 17, 1.5])
def test_an_unreadable_time_is_none_and_sorts_first(value: object) -> None:
    assert parse_timestamp(value) is None
    assert timestamp_order(value) < timestamp_order("0001-01-02T00:00:00Z")


# --- the error root -------------------------------------------------------------------------------


def test_the_error_root_keeps_message_and_hint() -> None:
    error = OdplanError("what happened", "what to do")
    assert (error.message, error.hint, str(error)) == (
        "what happened",
        "what to do",
        "what happened",
    )
    assert error.user_message() == "what happened"
    assert OdplanError().hint == ""

    class Bare(OdplanError):
        def __init__(self, text: str) -> None:
            Exception.__init__(self, text)

    assert Bare("only str").user_message() == "only str"
    assert Bare("x").hint == ""
