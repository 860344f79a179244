"""Is a started service up? HTTP GET on its health-check path when set, else a TCP connect;
a worker is up when it is still alive after a grace period."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

LOOPBACK: Final = "127.0.0.1"
_PROBE_TIMEOUT: Final = 2.0
# Probe often while a fast app is likely to come up (a redeploy waits on this), then calmly.
_PROBE_INTERVAL: Final = 0.1
_FIRST_PROBE_INTERVAL: Final = 0.02
_FIRST_PROBES_SECONDS: Final = 2.0


@dataclass(frozen=True)
class HealthResult:
    """`ok` with what answered, or not with the reason (`exited` is set when the process died)."""

    ok: bool
    detail: str
    exited: int | None = None


def probe_tcp(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=_PROBE_TIMEOUT):
            return True
    except OSError:
        return False


def probe_http(port: int, path: str) -> int | None:
    """The status of `GET path`, or None when nothing answered."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=_PROBE_TIMEOUT)
    try:
        connection.request("GET", path or "/", headers={"User-Agent": "opendeploy-health"})
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def wait_until_healthy(
    *,
    port: int | None,
    health_check_path: str,
    exit_code: Callable[[], int | None],
    timeout: float,
    worker_grace: float = 2.0,
    cancelled: Callable[[], bool] = lambda: False,
) -> HealthResult:
    """Poll until the service answers (2xx/3xx on the path, or a TCP accept), exits, or
    `timeout` passes. `exit_code` returns None while the process runs."""
    start = time.monotonic()
    if port is None:
        while time.monotonic() - start < worker_grace:
            if (code := exit_code()) is not None:
                return HealthResult(False, f"the worker exited with code {code}", code)
            if cancelled():
                return HealthResult(False, "cancelled")
            time.sleep(_PROBE_INTERVAL)
        return HealthResult(True, f"still running after {worker_grace:g} s")
    last = "nothing answered"
    while time.monotonic() - start < timeout:
        if (code := exit_code()) is not None:
            return HealthResult(False, f"the process exited with code {code}", code)
        if cancelled():
            return HealthResult(False, "cancelled")
        if health_check_path:
            status = probe_http(port, health_check_path)
            if status is not None and 200 <= status < 400:
                return HealthResult(True, f"GET {health_check_path} answered {status}")
            if status is not None:
                last = f"GET {health_check_path} answered {status}"
        elif probe_tcp(port):
            return HealthResult(True, f"port {port} accepts connections")
        early = time.monotonic() - start < _FIRST_PROBES_SECONDS
        time.sleep(_FIRST_PROBE_INTERVAL if early else _PROBE_INTERVAL)
    return HealthResult(False, f"no healthy answer on port {port} after {timeout:g} s ({last})")
