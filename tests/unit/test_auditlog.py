"""The audit log: the skill's JSONL lines, its secret guard, private files, and no crashes."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opendeploy_plan.auditlog import AuditLog, default_log_dir, is_secret_key

NOON = datetime(2026, 4, 26, 22, 50, 1, tzinfo=UTC)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_writes_one_json_line_per_call_in_a_daily_file(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "logs", now=lambda: NOON)
    log.info("deploy.create", project_id="p1", deployment_id="d1")
    log.error("deploy.terminal", deployment_id="d1", status="failed", duration_seconds=12)
    assert log.path == tmp_path / "logs" / "2026-04-26.log"
    assert lines(log.path) == [
        {
            "ts": "2026-04-26T22:50:01Z",
            "level": "info",
            "step": "deploy.create",
            "project_id": "p1",
            "deployment_id": "d1",
        },
        {
            "ts": "2026-04-26T22:50:01Z",
            "level": "error",
            "step": "deploy.terminal",
            "deployment_id": "d1",
            "status": "failed",
            "duration_seconds": 12,
        },
    ]


def test_directory_is_0700_and_file_is_0600(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "deep" / "logs", now=lambda: NOON)
    log.info("plan.start")
    assert stat.S_IMODE(log.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "API_KEY",
        "bind_sig",
        "password",
        "DB_PASSWORD",
        "token",
        "git_token",
        "client_secret",
        "SecretName",
        "Authorization",
        "x-authorization",
    ],
)
def test_secret_guard_drops_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["project_id", "var_keys", "var_count", "step", "gateway"])
def test_secret_guard_keeps_ordinary_keys(key: str) -> None:
    assert not is_secret_key(key)


def test_guard_applies_at_write_time_even_when_nested(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, now=lambda: NOON).bind(run_id="r1", token="canary-1")
    log.info(
        "auth.register",
        api_key="canary-2",
        bind_sig="canary-3",
        details={"password": "canary-4", "kept": "yes"},
    )
    text = log.path.read_text()
    assert "canary" not in text
    (record,) = lines(log.path)
    assert record["run_id"] == "r1"
    assert record["details"] == {"kept": "yes"}


def test_a_broken_log_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    log = AuditLog(blocker / "logs")
    log.info("report", status="ok")
    assert log.last_error is not None


def test_log_dir_follows_env_then_home(tmp_path: Path) -> None:
    assert default_log_dir({"OPDEPLOY_LOG_DIR": str(tmp_path / "x")}) == tmp_path / "x"
    home = {"HOME": str(tmp_path)}
    assert default_log_dir(home) == tmp_path / ".opendeploy" / "logs"
    assert default_log_dir(home, local=True) == tmp_path / ".opendeploy" / "local" / "logs"
