"""The JSONL audit log the skill keeps: `~/.opendeploy/logs/<UTC-date>.log`, secret-guarded.

One line per operation boundary, `{ts, level, step, …}`. Keys that look secret are dropped at
write time (the skill's guard); callers pass env key names and counts, never values. Writing
never raises: a broken log must not abort a deploy.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from opendeploy_plan.fsutil import ensure_private_dir

__all__ = ["AuditLog", "Level", "default_log_dir", "is_secret_key", "redact_fields"]

Level = Literal["info", "warn", "error"]

# The skill's guard (api_key, bind_sig, password, token, *secret*, *Authorization*), made
# stricter: every key merely containing one of these words is dropped, in any case, so
# `git_token` or `DB_PASSWORD` cannot slip through either.
_SECRET_KEY = re.compile(r"api[_-]?key|bind[_-]?sig|password|token|secret|authorization", re.I)


def is_secret_key(key: str) -> bool:
    """True for a key the audit log must never write."""
    return bool(_SECRET_KEY.search(key))


def redact_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """`fields` without secret-looking keys, recursively, as JSON-safe values."""
    return {k: _clean(v) for k, v in fields.items() if not is_secret_key(str(k))}


def _clean(value: Any) -> Any:
    if isinstance(value, Mapping):
        return redact_fields(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def default_log_dir(env: Mapping[str, str], *, local: bool = False) -> Path:
    """`OPDEPLOY_LOG_DIR`, else `~/.opendeploy/logs` (`~/.opendeploy/local/logs` for local)."""
    override = env.get("OPDEPLOY_LOG_DIR")
    if override:
        return Path(override).expanduser()
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    base = home / ".opendeploy"
    return base / "local" / "logs" if local else base / "logs"


class AuditLog:
    """Appends guarded JSONL lines to `<directory>/<UTC-date>.log` (0600, directory 0700).

    Invariant: no line ever holds a key matching the secret guard; a write failure is
    remembered in `last_error` and otherwise ignored.
    """

    def __init__(
        self,
        directory: Path,
        *,
        now: Callable[[], datetime] | None = None,
        base_fields: Mapping[str, Any] | None = None,
    ) -> None:
        self.directory = directory
        self._now = now or (lambda: datetime.now(UTC))
        self._base = redact_fields(base_fields or {})
        self.last_error: str | None = None

    @classmethod
    def for_env(cls, env: Mapping[str, str] | None = None, *, local: bool = False) -> AuditLog:
        """The log odplan writes for this environment (see `default_log_dir`)."""
        return cls(default_log_dir(os.environ if env is None else env, local=local))

    @property
    def path(self) -> Path:
        """Today's log file (UTC)."""
        return self.directory / f"{self._now().astimezone(UTC):%Y-%m-%d}.log"

    def bind(self, **fields: Any) -> AuditLog:
        """A log that adds `fields` (e.g. a run id) to every line."""
        return AuditLog(self.directory, now=self._now, base_fields={**self._base, **fields})

    def info(self, step: str, **fields: Any) -> None:
        self.write("info", step, **fields)

    def warn(self, step: str, **fields: Any) -> None:
        self.write("warn", step, **fields)

    def error(self, step: str, **fields: Any) -> None:
        self.write("error", step, **fields)

    def write(self, level: Level, step: str, **fields: Any) -> None:
        """Append one line; never raises."""
        try:
            moment = self._now().astimezone(UTC)
            record = {
                "ts": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "level": level,
                "step": step,
                **self._base,
                **redact_fields(fields),
            }
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
            self._append(self.directory / f"{moment:%Y-%m-%d}.log", line)
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"

    def _append(self, path: Path, line: str) -> None:
        if not self.directory.is_dir():
            # Like the skill: a directory we create is 0700; an existing one is left alone.
            ensure_private_dir(self.directory, tighten_existing=False)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            if stat.S_IMODE(os.fstat(fd).st_mode) != 0o600:
                os.fchmod(fd, 0o600)
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
