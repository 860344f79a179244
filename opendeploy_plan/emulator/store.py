"""SQLite persistence for the local gateway: one connection guarded by a lock (WAL for files),
so uvicorn's worker threads never interleave a read-modify-write."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL, plan TEXT NOT NULL,
  quota TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
  hash TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT, guest_id TEXT,
  created_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS guests (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, hostname TEXT NOT NULL, prefix TEXT NOT NULL,
  source_ip TEXT NOT NULL, user_agent TEXT NOT NULL, state TEXT NOT NULL,
  bound_user_id TEXT, bound_at REAL, created_at REAL NOT NULL, last_deployed_at REAL
);
CREATE TABLE IF NOT EXISTS register_log (ip TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS regions (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, code TEXT NOT NULL, status TEXT NOT NULL,
  environment TEXT NOT NULL, position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
  id TEXT PRIMARY KEY, tenant TEXT NOT NULL, guest_id TEXT, name TEXT NOT NULL,
  data TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
  last_activity_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS services (
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, environment TEXT NOT NULL,
  spec TEXT NOT NULL, env TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dependencies (
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, data TEXT NOT NULL, created_at REAL NOT NULL,
  ready_at REAL NOT NULL, failed_reason TEXT
);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY, path TEXT NOT NULL, data TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deployments (
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, service_id TEXT NOT NULL,
  data TEXT NOT NULL, timeline TEXT NOT NULL, created_at REAL NOT NULL,
  cancelled_at REAL, rolled_back_at REAL
);
CREATE TABLE IF NOT EXISTS domains (
  id TEXT PRIMARY KEY, service_id TEXT NOT NULL, project_id TEXT NOT NULL,
  prefix TEXT, domain TEXT NOT NULL UNIQUE, environment TEXT NOT NULL, type TEXT NOT NULL,
  created_at REAL NOT NULL, changed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS git_repos (url TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS services_project ON services (project_id);
CREATE INDEX IF NOT EXISTS deployments_service ON deployments (service_id, created_at);
CREATE INDEX IF NOT EXISTS deployments_project ON deployments (project_id, created_at);
"""


class Store:
    """A SQLite database with one connection; every access goes through `transaction()`."""

    def __init__(self, path: str) -> None:
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Hold the lock and one SQLite transaction; commit on success, roll back on error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class Transaction:
    """Query helpers bound to the open transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(self._conn.execute(sql, params).fetchall())

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
        return row
