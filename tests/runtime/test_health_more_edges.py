"""More health-check edges: an empty path probes `/`, a 404 is not judged a wrong path before
its time (the wait reports the last answer), a worker's grace is shown as a plain number, and
an app listening on IPv6 loopback is seen listening. The listening app is a real child process
in its own group, stopped by its PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opendeploy_plan.runtime.health import listening_ports, probe_http, wait_until_healthy


class _OnlyRoot(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def only_root() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OnlyRoot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


def test_an_empty_health_path_probes_the_root() -> None:
    with only_root() as port:
        assert probe_http(port, "") == 200
        assert probe_http(port, "/missing") == 404


def test_a_404_for_less_than_its_grace_is_a_timeout_naming_the_last_answer() -> None:
    with only_root() as port:
        result = wait_until_healthy(
            port=port, health_check_path="/missing", exit_code=lambda: None, timeout=0.3
        )
    assert not result.ok and result.exited is None
    assert result.detail == (
        f"no healthy answer on port {port} after 0.3 s (GET /missing answered 404)"
    )


def test_a_worker_without_grace_is_up_at_once_and_says_so_plainly() -> None:
    result = wait_until_healthy(
        port=None, health_check_path="", exit_code=lambda: None, timeout=5, worker_grace=0.0
    )
    assert (result.ok, result.detail) == (True, "still running after 0 s")


SERVE6 = """
import socket, time
server = socket.socket(socket.AF_INET6); server.bind(("::1", 0)); server.listen()
print(server.getsockname()[1], flush=True)
time.sleep(60)
"""


def test_a_port_listened_on_over_ipv6_is_seen() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", SERVE6], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        assert listening_ports(child.pid) == {port}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(5)
