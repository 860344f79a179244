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
