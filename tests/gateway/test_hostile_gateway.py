"""A hostile or broken gateway, through the real CLI over real HTTP (issue 17, items 5, 7, 10).

The fake gateway is a raw socket server on 127.0.0.1 that answers every request with what the
test scripts: a body far over the cap, a 50 MB error, one byte every half second, `[` x 100,000,
escape sequences, an echo of a truncated key. odplan must stay bounded, end in time, print no
control character and no secret fragment, and exit 1 with a clear error (never a traceback).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from opendeploy_plan.cli import main

KEY = "od_k" + "Q7rT9xLm2VbN8cZp4WsY6hJd3FgK1aEu5oIi0Rl2Tn7"

Answer = Callable[[socket.socket], None]


@dataclass
class FakeGateway:
    base_url: str
    requests: list[str] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)


@contextmanager
def fake_gateway(answer: Answer) -> Iterator[FakeGateway]:
    """Serve `answer` to every connection on an ephemeral 127.0.0.1 port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    fake = FakeGateway(base_url=f"http://127.0.0.1:{port}/api")
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            data = b""
            with suppress(OSError):
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                fake.requests.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
                answer(conn)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def head(status: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [
        f"HTTP/1.1 {status}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def json_answer(status: str, body: object) -> Answer:
    raw = json.dumps(body).encode()

    def answer(conn: socket.socket) -> None:
        conn.sendall(
            head(status, {"Content-Type": "application/json", "Content-Length": str(len(raw))})
            + raw
        )

    return answer


def run(home: Path, *args: str, **env: str | None) -> Result:
    base: dict[str, str | None] = {
        "HOME": str(home),
        "OPDEPLOY_LOG_DIR": str(home / "logs"),
        "OPDEPLOY_AUTH_FILE": None,
        "OD_API_KEY": KEY,
        "OD_GATEWAY": None,
        "OPDEPLOY_ALLOW_CREDENTIAL_INIT": None,
        "OPDEPLOY_REQUEST_DEADLINE": None,
    }
    base.update(env)
    return CliRunner().invoke(main, list(args), env=base, catch_exceptions=False)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def audit_text(home: Path) -> str:
    return (
        "".join(p.read_text() for p in (home / "logs").glob("*"))
        if (home / "logs").exists()
        else ""
    )


# --- item 5: unbounded answers --------------------------------------------------------------------


def test_a_huge_answer_is_refused_and_odplan_stops_reading_it(home: Path) -> None:
    total = 256 * 1024 * 1024

    def endless(conn: socket.socket) -> None:
        conn.sendall(head("200 OK", {"Content-Type": "application/json"}))
        chunk = b"[" * (1024 * 1024)
        sent = 0
        with suppress(OSError):
            while sent < total:
                conn.sendall(chunk)
                sent += len(chunk)
        fake.sent.append(sent)

    with fake_gateway(endless) as fake:
        result = run(home, "whoami", "--gateway", fake.base_url)
        deadline = time.monotonic() + 10
        while not fake.sent and time.monotonic() < deadline:
            time.sleep(0.05)
    assert result.exit_code == 1, result.output
    assert "larger than 32 MiB" in result.stderr
    assert "Traceback" not in result.output
    assert fake.sent and fake.sent[0] < 100 * 1024 * 1024


def test_a_50_mb_error_body_is_cut_to_a_short_reason(home: Path) -> None:
    def big_error(conn: socket.socket) -> None:
        body = b'{"error": "' + b"x" * (50 * 1024 * 1024) + b'"}'
        with suppress(OSError):
            conn.sendall(head("400 Bad Request", {"Content-Length": str(len(body))}) + body)

    with fake_gateway(big_error) as fake:
        result = run(home, "whoami", "--gateway", fake.base_url)
    assert result.exit_code == 1
    assert "HTTP 400" in result.stderr
    assert len(result.stderr) < 5000


def test_a_gateway_that_drips_one_byte_at_a_time_hits_the_deadline(home: Path) -> None:
    def drip(conn: socket.socket) -> None:
        with suppress(OSError):
            conn.sendall(head("200 OK", {"Content-Type": "application/json"}))
            for _ in range(80):
                conn.sendall(b" ")
                time.sleep(0.5)

    with fake_gateway(drip) as fake:
        started = time.monotonic()
        result = run(home, "whoami", "--gateway", fake.base_url, OPDEPLOY_REQUEST_DEADLINE="1")
        elapsed = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert "deadline" in result.stderr
    assert elapsed < 30


def test_deeply_nested_json_is_a_clear_error_not_a_traceback(home: Path) -> None:
    raw = b"[" * 100_000

    def nested(conn: socket.socket) -> None:
        conn.sendall(head("200 OK", {"Content-Length": str(len(raw))}) + raw)

    with fake_gateway(nested) as fake:
        result = run(home, "whoami", "--gateway", fake.base_url)
    assert result.exit_code == 1
    assert "not JSON" in result.stderr
    assert "Traceback" not in result.output and "RecursionError" not in result.output


# --- item 7: terminal injection and echoed secrets -----------------------------------------------


def test_control_sequences_from_the_gateway_are_escaped(home: Path) -> None:
    evil = "bad\x1b[2J\x1b]0;pwned\x07 request\r\nerror: forged line\u202eevil"
    with fake_gateway(json_answer("400 Bad Request", {"error": evil})) as fake:
        result = run(home, "whoami", "--gateway", fake.base_url)
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "\u202e" not in result.stderr
    assert "\nerror: forged line" not in result.stderr
    assert "\\x1b[2J" in result.stderr


def test_a_truncated_key_quoted_by_the_gateway_is_redacted(home: Path) -> None:
    quoted = {"error": f"invalid API key {KEY[:14]}... (ends ...{KEY[-8:]})", "body": {"k": KEY}}
    with fake_gateway(json_answer("400 Bad Request", quoted)) as fake:
        result = run(home, "whoami", "--gateway", fake.base_url)
    assert result.exit_code == 1
    for fragment in (KEY[4:14], KEY[-8:]):
        assert fragment not in result.output
        assert fragment not in audit_text(home)
    assert "***" in result.stderr


# --- item 10: empty key, credentials in a URL -----------------------------------------------------


def test_an_empty_od_api_key_is_named_and_nothing_is_sent(home: Path) -> None:
    with fake_gateway(json_answer("401 Unauthorized", {"error": "invalid API key"})) as fake:
        result = run(home, "whoami", "--gateway", fake.base_url, OD_API_KEY="  ")
    assert result.exit_code == 1
    assert "OD_API_KEY is set but empty" in result.stderr
    assert "rejected" not in result.stderr
    assert fake.requests == []


def test_an_invalid_gateway_url_never_echoes_its_password(home: Path) -> None:
    result = run(home, "whoami", "--gateway", "https://bob:hunter2@gw.example/api")
    assert result.exit_code != 0
    assert "hunter2" not in result.output
    assert "***" in result.stderr
