"""Health checks on the edges: an app that listens on its PORT and on another port (metrics)
is fine, one that listens only elsewhere is told which port it chose; a cancelled wait, a
process that exits while awaited and a wait that runs out each say so. The listening app is a
real child process in its own group, stopped by its PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from opendeploy_plan.runtime.health import _wrong_port, listening_ports, wait_until_healthy

SERVE = """
import socket, sys, time
servers = []
for port in sys.argv[1:]:
    s = socket.socket(); s.bind(("127.0.0.1", int(port))); s.listen(); servers.append(s)
if servers:  # a connection too: its ephemeral end is not a port the app listens on
    client = socket.create_connection(servers[0].getsockname())
    accepted = servers[0].accept()
print("ready", flush=True)
time.sleep(60)
"""


def _free() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def listening_on(*ports: int) -> Iterator[int]:
    """A child process group listening on `ports`; yields its process group id."""
    child = subprocess.Popen(
        [sys.executable, "-c", SERVE, *map(str, ports)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        yield child.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(5)


def test_an_app_on_its_port_and_another_one_is_on_the_right_port() -> None:
    given, metrics = _free(), _free()
    with listening_on(given, metrics) as group:
        assert listening_ports(group) == {given, metrics}
        assert _wrong_port(given, group) is None


def test_an_app_only_on_other_ports_is_told_which() -> None:
    given, chosen = _free(), _free()
    with listening_on(chosen) as group:
        message = _wrong_port(given, group)
    assert message is not None
    assert message.startswith(
        f"the app listens on port {chosen}, not on the port it was given in PORT ({given})"
    )
    assert "make it listen on the PORT environment variable" in message


def test_an_app_listening_nowhere_yet_is_not_judged() -> None:
    with listening_on() as group:
        assert listening_ports(group) == set()
        assert _wrong_port(_free(), group) is None


def test_cancelled_exited_and_timed_out_waits_say_so() -> None:
    worker = wait_until_healthy(
        port=None, health_check_path="", exit_code=lambda: None, timeout=5, cancelled=lambda: True
    )
    assert (worker.ok, worker.detail) == (False, "cancelled")
    crashed = wait_until_healthy(
        port=None, health_check_path="", exit_code=lambda: 3, timeout=5, worker_grace=2
    )
    assert (crashed.ok, crashed.detail, crashed.exited) == (
        False,
        "the worker exited with code 3",
        3,
    )
    port = _free()
    web = wait_until_healthy(
        port=port,
        health_check_path="/up",
        exit_code=lambda: None,
        timeout=5,
        cancelled=lambda: True,
    )
    assert (web.ok, web.detail) == (False, "cancelled")
    exited = wait_until_healthy(port=port, health_check_path="/up", exit_code=lambda: 0, timeout=5)
    assert (exited.ok, exited.detail, exited.exited) == (
        False,
        "the process exited with code 0",
        0,
    )
    started = time.monotonic()
    silent = wait_until_healthy(
        port=port, health_check_path="", exit_code=lambda: None, timeout=0.6
    )
    assert time.monotonic() - started < 5
    assert (silent.ok, silent.detail) == (
        False,
        f"no healthy answer on port {port} after 0.6 s (nothing answered)",
    )


class _Answers(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(int(self.path.strip("/")))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("status", "healthy"),
    [(200, True), (204, True), (302, True), (399, True), (400, False), (401, False), (503, False)],
)
def test_only_2xx_and_3xx_answers_are_healthy(status: int, healthy: bool) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = wait_until_healthy(
            port=server.server_port,
            health_check_path=f"/{status}",
            exit_code=lambda: None,
            timeout=0.5,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.ok is healthy, result.detail
    if healthy:
        assert result.detail == f"GET /{status} answered {status}"
    else:
        assert result.detail.endswith(f"(GET /{status} answered {status})")
