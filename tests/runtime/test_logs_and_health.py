"""Log streams mask secrets and feed subscribers; health checks tell up from down."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opendeploy_plan.runtime import LogStream, RuntimeLogLine, wait_until_healthy
from opendeploy_plan.runtime.health import probe_http


def test_secrets_are_masked_before_storage_and_delivery() -> None:
    log = LogStream(["s3cr3t-value"])
    seen: list[RuntimeLogLine] = []
    unsubscribe = log.subscribe(seen.append)
    log.write("connecting with s3cr3t-value\n", phase="runtime")
    unsubscribe()
    log.write("after", phase="runtime")
    assert [line.message for line in log.lines()] == ["connecting with ********", "after"]
    assert [line.message for line in seen] == ["connecting with ********"]
    assert log.tail(1) == ["after"]


def test_a_secret_that_contains_another_is_masked_whole() -> None:
    log = LogStream(["abcd", "abcdefgh-1234"])
    log.write("key abcdefgh-1234 and abcd", phase="build")
    assert log.lines()[0].message == "key ******** and ********"


def test_values_too_short_to_be_secrets_are_not_masked_everywhere() -> None:
    log = LogStream(["abc", "", "wxyz"])
    log.write("abc wxyz", phase="runtime")
    assert log.lines()[0].message == "abc ********"


def test_secrets_added_later_mask_the_lines_after() -> None:
    log = LogStream()
    log.write("token t0k3n-late", phase="runtime")
    log.add_secrets(["t0k3n-late"])
    log.write("token t0k3n-late", phase="runtime")
    assert [line.message for line in log.lines()] == ["token t0k3n-late", "token ********"]


def test_an_overlong_line_is_cut_after_masking() -> None:
    secret = "PREFIXLEAK-" + "9" * 30
    log = LogStream([secret])
    # The secret starts 12 characters before the cut at 8192: masked whole, not half shown.
    log.write("x" * 8180 + secret + "tail", phase="build")
    message = log.lines()[0].message
    assert "PREFIXLEAK" not in message and "9999" not in message
    assert message == "x" * 8180 + "********" + "tail"
    log.write("y" * 9000, phase="build")
    assert log.lines()[1].message == "y" * 8192 + " …"


def test_a_full_stream_keeps_the_newest_lines() -> None:
    log = LogStream(max_lines=3)
    for number in range(5):
        log.write(f"line {number}", phase="runtime")
    assert [line.message for line in log.lines()] == ["line 2", "line 3", "line 4"]
    assert log.tail(2) == ["line 3", "line 4"]


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_http_health_path_tcp_and_exit() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    assert probe_http(port, "/healthz") == 200
    ok = wait_until_healthy(
        port=port, health_check_path="/healthz", exit_code=lambda: None, timeout=5
    )
    assert ok.ok and "200" in ok.detail
    bad = wait_until_healthy(
        port=port, health_check_path="/other", exit_code=lambda: None, timeout=0.5
    )
    assert not bad.ok and "503" in bad.detail
    server.shutdown()

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed_port = free.getsockname()[1]
    exited = wait_until_healthy(
        port=closed_port, health_check_path="", exit_code=lambda: 1, timeout=5
    )
    assert not exited.ok and exited.exited == 1
    worker = wait_until_healthy(
        port=None, health_check_path="", exit_code=lambda: None, timeout=5, worker_grace=0.2
    )
    assert worker.ok
