"""Is a started service up? HTTP GET on its health-check path when set, else a TCP connect;
a worker is up when it is still alive after a grace period.

An app that ignores `PORT` (a hard-coded `listen(3000)`) would only fail at the timeout with
"nothing answered"; when its process group is known, the ports it does listen on are read
from /proc and the check ends early with a message that says so.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["HealthResult", "listening_ports", "probe_http", "probe_tcp", "wait_until_healthy"]

LOOPBACK: Final = "127.0.0.1"
_PROBE_TIMEOUT: Final = 2.0
# Probe often while a fast app is likely to come up (a redeploy waits on this), then calmly.
_PROBE_INTERVAL: Final = 0.1
_FIRST_PROBE_INTERVAL: Final = 0.02
_FIRST_PROBES_SECONDS: Final = 2.0
# How long an app may listen elsewhere, but not on its PORT, before that is its answer (a
# server may open a side port, e.g. metrics, a little before its main one).
WRONG_PORT_SECONDS: Final = 5.0
_LISTEN: Final = "0A"  # TCP state LISTEN in /proc/net/tcp
# An app that answers its health-check path with "no such route" this long has its answer:
# the path is wrong (waiting out the whole timeout tells the user nothing more).
WRONG_PATH_SECONDS: Final = 10.0
_NO_SUCH_ROUTE: Final = (404, 405)


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


def _group_socket_inodes(process_group: int) -> set[str]:
    """The socket inodes open in any process of `process_group` (those we may read)."""
    inodes: set[str] = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_bytes()
            if int(stat[stat.rfind(b")") + 2 :].split()[2]) != process_group:
                continue
            for fd in os.scandir(Path(entry.path, "fd")):
                with contextlib.suppress(OSError):
                    target = os.readlink(fd.path)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
        except (OSError, ValueError, IndexError):
            continue
    return inodes


def listening_ports(process_group: int) -> set[int]:
    """The TCP ports that processes of `process_group` listen on (IPv4 and IPv6)."""
    inodes = _group_socket_inodes(process_group)
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == _LISTEN and fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _wrong_port(port: int, process_group: int) -> str | None:
    listening = listening_ports(process_group)
    others = sorted(listening - {port})
    if not others or port in listening:
        return None
    shown = ", ".join(map(str, others))
    return (
        f"the app listens on port {shown}, not on the port it was given in PORT ({port}): "
        "make it listen on the PORT environment variable (e.g. `process.env.PORT`, "
        '`int(os.environ["PORT"])`) or set the start command to pass it'
    )


def wait_until_healthy(
    *,
    port: int | None,
    health_check_path: str,
    exit_code: Callable[[], int | None],
    timeout: float,
    worker_grace: float = 2.0,
    cancelled: Callable[[], bool] = lambda: False,
    process_group: int | None = None,
) -> HealthResult:
    """Poll until the service answers (2xx/3xx on the path, or a TCP accept), exits, or
    `timeout` passes. `exit_code` returns None while the process runs. With `process_group`
    (the app's), an app that listens only on other ports than `port` fails after
    `WRONG_PORT_SECONDS` with a message naming them; a health-check path answered 404/405
    for `WRONG_PATH_SECONDS` fails too (a wrong path, not a slow start)."""
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
    looked = no_route_since = 0.0
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
            if status in _NO_SUCH_ROUTE:
                no_route_since = no_route_since or time.monotonic()
                if time.monotonic() - no_route_since >= WRONG_PATH_SECONDS:
                    return HealthResult(
                        False,
                        f"{last} for {WRONG_PATH_SECONDS:g} s: the app is up but has no "
                        f"such route; fix health_check_path (or remove it to check the port)",
                    )
            else:
                no_route_since = 0.0
        elif probe_tcp(port):
            return HealthResult(True, f"port {port} accepts connections")
        elapsed = time.monotonic() - start
        # /proc is read about once a second, not at every probe.
        if process_group is not None and elapsed >= WRONG_PORT_SECONDS + looked:
            looked += 1.0
            if wrong := _wrong_port(port, process_group):
                return HealthResult(False, wrong)
        early = elapsed < _FIRST_PROBES_SECONDS
        time.sleep(_FIRST_PROBE_INTERVAL if early else _PROBE_INTERVAL)
    return HealthResult(False, f"no healthy answer on port {port} after {timeout:g} s ({last})")
