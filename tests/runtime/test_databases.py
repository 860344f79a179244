"""Real PostgreSQL and Redis for dependencies: password logins, data that survives a restart,
no password in any file."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from opendeploy_plan.runtime import LogStream, unprivileged_user
from opendeploy_plan.runtime.databases import (
    Credentials,
    DatabaseManager,
    find_postgres,
    find_redis,
)

from .conftest import SHARED_CACHE

PG_PASSWORD = "pg-Pass-4b1d9e"
REDIS_PASSWORD = "redis-Pass-77c0aa"


def redis_command(port: int, *args: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        request = f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)
        conn.sendall(request.encode())
        return conn.recv(1024)


def authed(port: int, command: str) -> bytes:
    """AUTH then one inline command on one connection; both replies."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(f"AUTH {REDIS_PASSWORD}\r\n{command}\r\n".encode())
        reply = b""
        while reply.count(b"\r\n") < (3 if command.startswith("GET") else 2):
            chunk = conn.recv(100)
            if not chunk:
                break
            reply += chunk
        return reply


def psql(bin_dir: Path, port: int, password: str, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(bin_dir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "app",
            "-d",
            "shop",
            "-tAc",
            sql,
        ],
        env={"PGPASSWORD": password, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.skipif(find_postgres(unprivileged_user()) is None, reason="no PostgreSQL here")
def test_postgres_with_password_auth_keeps_its_data(work_dir: Path) -> None:
    bin_dir = find_postgres(unprivileged_user())
    assert bin_dir is not None and (bin_dir / "psql").exists()
    manager = DatabaseManager(work_dir / "data", unprivileged_user(), SHARED_CACHE)
    log = LogStream()
    credentials = Credentials("app", PG_PASSWORD, "shop")
    running = manager.ensure("dep-1", "postgres", credentials, log)
    # Whatever the server prints with the password in it reaches the log masked.
    assert (
        log.write(f"FATAL: auth {PG_PASSWORD}", phase="database").message == "FATAL: auth ********"
    )
    assert (
        psql(
            bin_dir, running.port, PG_PASSWORD, "CREATE TABLE t (v int); INSERT INTO t VALUES (42)"
        ).returncode
        == 0
    )
    refused = psql(bin_dir, running.port, "wrong-password", "SELECT 1")
    assert refused.returncode != 0 and "password authentication failed" in refused.stderr
    manager.stop_all()

    again = manager.ensure("dep-1", "postgres", credentials, log)
    assert again.port == running.port  # connection strings stay stable across restarts
    assert psql(bin_dir, again.port, PG_PASSWORD, "SELECT v FROM t").stdout.strip() == "42"
    manager.stop_all()
    for path in (work_dir / "data").rglob("*"):
        if path.is_file():
            assert PG_PASSWORD.encode() not in path.read_bytes(), path
    assert all(PG_PASSWORD not in line.message for line in log.lines())


@pytest.mark.slow
@pytest.mark.skipif(find_redis(unprivileged_user()) is None, reason="no redis-server here")
def test_redis_requires_its_password_and_keeps_its_data(work_dir: Path) -> None:
    manager = DatabaseManager(work_dir / "data", unprivileged_user(), SHARED_CACHE)
    credentials = Credentials("default", REDIS_PASSWORD, "0")
    log = LogStream()
    running = manager.ensure("dep-2", "redis", credentials, log)
    assert log.write(f"requirepass {REDIS_PASSWORD}", phase="database").message == (
        "requirepass ********"
    )
    assert redis_command(running.port, "SET", "k", "v").startswith(b"-NOAUTH")
    assert redis_command(running.port, "AUTH", REDIS_PASSWORD) == b"+OK\r\n"
    assert authed(running.port, "SET k v").endswith(b"+OK\r\n+OK\r\n")
    manager.stop_all()
    again = manager.ensure("dep-2", "redis", credentials, LogStream())
    assert authed(again.port, "GET k").endswith(b"$1\r\nv\r\n")
    manager.stop_all()
    for path in (work_dir / "data").rglob("*"):
        if path.is_file():
            assert REDIS_PASSWORD.encode() not in path.read_bytes(), path


def test_an_unknown_type_is_named_as_missing(work_dir: Path) -> None:
    manager = DatabaseManager(work_dir / "data", unprivileged_user(), SHARED_CACHE)
    assert "mysql" in (manager.missing("mysql") or "")
