"""Database decisions that need no database server: a Redis readiness ping sends AUTH with
the password's exact length and counts only `+OK` then `+PONG` as ready (a refused password
or a closed port is not ready), and a type the runtime cannot run is named as missing."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from opendeploy_plan.runtime.databases import DatabaseManager, _redis_ping


def _scripted(reply: bytes) -> tuple[int, list[bytes]]:
    """A one-connection server that records what it gets and answers `reply`."""
    server = socket.create_server(("127.0.0.1", 0))
    got: list[bytes] = []

    def run() -> None:
        with server:
            conn, _ = server.accept()
            with conn:
                data = b""
                while data.count(b"\r\n") < 8:
                    chunk = conn.recv(1024)
                    if not chunk:
                        break
                    data += chunk
                got.append(data)
                conn.sendall(reply)

    threading.Thread(target=run, daemon=True).start()
    return int(server.getsockname()[1]), got


def test_a_redis_that_accepts_the_password_and_pongs_is_ready() -> None:
    port, got = _scripted(b"+OK\r\n+PONG\r\n")
    assert _redis_ping(port, "s3cret-pw")
    assert got == [b"*2\r\n$4\r\nAUTH\r\n$9\r\ns3cret-pw\r\n*1\r\n$4\r\nPING\r\n"]


def test_a_non_ascii_password_is_framed_by_its_length_in_bytes() -> None:
    port, got = _scripted(b"+OK\r\n+PONG\r\n")
    assert _redis_ping(port, "mot-de-passé")
    assert got == ["*2\r\n$4\r\nAUTH\r\n$13\r\nmot-de-passé\r\n*1\r\n$4\r\nPING\r\n".encode()]


def test_a_refused_password_or_a_closed_port_is_not_ready() -> None:
    port, _ = _scripted(b"-WRONGPASS invalid password\r\n-NOAUTH\r\n")
    assert not _redis_ping(port, "pw")
    port, _ = _scripted(b"-ERR\r\n+PONG\r\n")
    assert not _redis_ping(port, "pw")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = int(probe.getsockname()[1])
    assert not _redis_ping(closed, "pw")


def test_a_type_the_runtime_cannot_run_is_named(tmp_path: Path) -> None:
    manager = DatabaseManager(tmp_path / "data", None, tmp_path / "cache")
    assert manager.missing("mysql") == (
        "a local mysql server (the local runtime runs postgres and redis)"
    )
    assert manager.running_ids() == [] and manager.get("nope") is None
