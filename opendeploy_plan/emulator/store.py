"""SQLite persistence for the local gateway: one connection guarded by a lock (WAL for files),
so uvicorn's worker threads never interleave a read-modify-write.

Secrets never reach the file in clear: the columns that hold runtime variables, build
variables and database passwords (`SEALED_COLUMNS`) are written as `Sealed` values, encrypted
(Fernet: AES-128-CBC + HMAC-SHA256) with a key kept outside the state folder, in
`~/.config/opendeploy/gateway.key` (mode 0600; `ODPLAN_GATEWAY_KEY_FILE` to move it). Every
read unseals them transparently, so a restarted gateway still has what it needs to start the
last deployments again; a copy of the state folder alone reveals no secret. A `:memory:`
store seals with a key that lives in memory only. The database file (and SQLite's -wal and
-shm beside it) is 0600, a folder the store creates 0700.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["SEALED_COLUMNS", "Sealed", "Store", "StoreKeyError", "Transaction", "default_key_file"]

KEY_FILE_ENV: Final = "ODPLAN_GATEWAY_KEY_FILE"
_SEAL_PREFIX: Final = "odplan-sealed:v1:"
_SEAL_CHECK: Final = "seal_check"
# (table, column, row filter): what `Sealed` must wrap on every write; a store opened on an
# older database seals what it finds there in clear, then vacuums the clear copies away.
SEALED_COLUMNS: Final = (
    ("services", "env", "1"),
    ("services", "spec", "1"),
    ("dependencies", "data", "1"),
    ("meta", "value", "key='bind_secret'"),
)


class StoreKeyError(Exception):
    """The key file cannot open this database's sealed values."""


class Sealed:
    """A text value to store encrypted (see the module docstring). Reads give the text back."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return "Sealed(********)"


def default_key_file() -> Path:
    """Where the sealing key lives: outside every state folder, in the user's config."""
    if asked := os.environ.get(KEY_FILE_ENV):
        return Path(asked).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "opendeploy" / "gateway.key"


def _private_file(path: Path) -> None:
    """Create `path` if missing, mode 0600 either way (before SQLite opens it, which gives its
    -wal and -shm files the same mode)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for extra in (path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal"))):
        with contextlib.suppress(FileNotFoundError):
            extra.chmod(0o600)


def _read_key(key_file: Path) -> bytes | None:
    try:
        key = key_file.read_bytes().strip()
    except FileNotFoundError:
        return None
    with contextlib.suppress(OSError):
        key_file.chmod(0o600)
    return key


def _create_key(key_file: Path) -> bytes:
    """A new key in `key_file` (0600 in a 0700 folder); the other's key when a gateway
    starting at the same moment wrote it first."""
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Fernet.generate_key()
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        time.sleep(0.1)  # let the winner finish writing
        return _read_key(key_file) or key
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


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

    def __init__(self, path: str, *, key_file: Path | None = None) -> None:
        self._lock = threading.RLock()
        in_memory = path == ":memory:"
        if not in_memory:
            _private_file(Path(path))
        key_path = None if in_memory else (key_file or default_key_file())
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = self._row
        if not in_memory:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        # Deleted and overwritten content is zeroed, not left in free pages.
        self._conn.execute("PRAGMA secure_delete=ON")
        self._conn.executescript(SCHEMA)
        try:
            self._fernet = Fernet(self._key(path, key_path))
            self._check_key(path, key_path)
        except BaseException:
            self._conn.close()
            raise
        self._seal_clear_values()

    def _key(self, path: str, key_path: Path | None) -> bytes:
        """The key file's key; a new one for a database that has sealed nothing yet. A sealed
        database whose key file is gone is refused (a new key could not read it)."""
        if key_path is None:
            return Fernet.generate_key()
        key = _read_key(key_path)
        sealed = self._conn.execute("SELECT 1 FROM meta WHERE key=?", (_SEAL_CHECK,)).fetchone()
        if key is None and sealed is not None:
            raise StoreKeyError(
                f"the gateway database {path} is sealed, but its key file {key_path} is missing: "
                "restore that key file, or start with a new --db (its secrets cannot be read)"
            )
        key = key or _create_key(key_path)
        try:
            Fernet(key)
        except ValueError as error:
            raise StoreKeyError(f"the key file {key_path} is not a sealing key: {error}") from None
        return key

    # -- sealing --------------------------------------------------------------------------
    def seal(self, text: str) -> str:
        return _SEAL_PREFIX + self._fernet.encrypt(text.encode()).decode()

    def _unseal(self, value: str) -> str:
        return self._fernet.decrypt(value[len(_SEAL_PREFIX) :].encode()).decode()

    def _row(self, cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> sqlite3.Row:
        if any(isinstance(v, str) and v.startswith(_SEAL_PREFIX) for v in values):
            values = tuple(
                self._unseal(v) if isinstance(v, str) and v.startswith(_SEAL_PREFIX) else v
                for v in values
            )
        return sqlite3.Row(cursor, values)

    def _check_key(self, path: str, key_path: Path | None) -> None:
        """Refuse a key that did not seal this database (a lost or swapped key file) with
        what to do, instead of failing on the first read."""
        self._conn.row_factory = None
        try:
            row = self._conn.execute(
                "SELECT value FROM meta WHERE key=?", (_SEAL_CHECK,)
            ).fetchone()
            if row is None:
                self._conn.execute(
                    "INSERT INTO meta VALUES (?, ?)", (_SEAL_CHECK, self.seal(_SEAL_CHECK))
                )
                return
            try:
                self._unseal(str(row[0]))
            except (InvalidToken, ValueError):
                raise StoreKeyError(
                    f"the gateway database {path} was sealed with another key than {key_path}: "
                    "restore that key file, or start with a new --db (its secrets cannot be read)"
                ) from None
        finally:
            self._conn.row_factory = self._row

    def _seal_clear_values(self) -> None:
        """Seal values an older gateway stored in clear, then vacuum their old pages away."""
        sealed = 0
        with self.transaction() as tx:
            for table, column, where in SEALED_COLUMNS:
                rows = tx.all(
                    f"SELECT rowid, {column} AS value FROM {table} "
                    f"WHERE {where} AND {column} NOT LIKE '{_SEAL_PREFIX}%'"
                )
                for row in rows:
                    tx.execute(
                        f"UPDATE {table} SET {column}=? WHERE rowid=?",
                        (Sealed(row["value"]), row["rowid"]),
                    )
                sealed += len(rows)
        if sealed:
            with self._lock:
                self._conn.execute("VACUUM")
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Hold the lock and one SQLite transaction; commit on success, roll back on error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._conn, self.seal)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class Transaction:
    """Query helpers bound to the open transaction; `Sealed` parameters are encrypted."""

    def __init__(self, conn: sqlite3.Connection, seal: Callable[[str], str] | None = None) -> None:
        self._conn = conn
        self._seal = seal

    def _params(self, params: Sequence[Any]) -> Sequence[Any]:
        if not any(isinstance(p, Sealed) for p in params):
            return params
        if self._seal is None:
            raise ValueError("a Sealed value needs a store that seals")
        seal = self._seal
        return tuple(seal(p.text) if isinstance(p, Sealed) else p for p in params)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, self._params(params)).rowcount

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(self._conn.execute(sql, self._params(params)).fetchall())

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._conn.execute(sql, self._params(params)).fetchone()
        return row
