"""The local platform in the background: `odplan gateway start` / `stop` / `status`.

One state folder, `~/.opendeploy/local/`, whichever way the local gateway runs: the SQLite
file `gateway.sqlite3`, the runtime's builds and databases, the guest or account credential
(`auth.json`) and, while a gateway serves it, `platform.json`: who serves it (pid and process
group), at which API URL, and the router port of its live URLs. `--gateway local` reads that
record: when a platform answers, the CLI talks to it over HTTP (so its URLs are real);
otherwise it runs the gateway in-process, with the simulated runtime.

Processes are tracked by the pid and process group in the record and stopped exactly by them
(never by name): the platform leads its own session, and every app and database it starts
dies with it (the runtime's supervisors watch a pipe from the gateway).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from opendeploy_plan import platform
from opendeploy_plan.fsutil import ensure_private_dir
from opendeploy_plan.gateway import local_dir

__all__ = [
    "DB_NAME",
    "LOCAL_RUNTIME_MARK",
    "LOG_NAME",
    "RECORD_NAME",
    "STOP_COMMAND",
    "PlatformError",
    "PlatformRecord",
    "default_db",
    "live_url",
    "read_record",
    "remove_record",
    "running_platform",
    "serving",
    "start_platform",
    "stop_platform",
    "write_record",
]

DB_NAME = "gateway.sqlite3"
RECORD_NAME = "platform.json"
# Left in the state folder by a gateway on the local runtime: its deployments are real
# processes, which only a running platform can observe (the in-process, simulated gateway
# then refuses that state rather than misreport it).
LOCAL_RUNTIME_MARK = "local-runtime"
LOG_NAME = "platform.log"
STOP_COMMAND = "odplan gateway stop"


class PlatformError(Exception):
    """Starting or stopping the local platform failed; `hint` says what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class PlatformRecord:
    """A serving local gateway: its process, its API URL and its router's port."""

    pid: int
    pgid: int
    api_url: str
    router_port: int | None
    runtime: str
    db_path: str
    started_at: float
    # The admin API's bearer token when the gateway has one (the record is 0600, like
    # auth.json): `odplan gateway account` mints through it. Never printed.
    admin_token: str | None = field(default=None, repr=False)

    @property
    def root_url(self) -> str:
        return platform.dashboard_host(self.api_url)

    def shown(self) -> dict[str, Any]:
        """The record without its secret, for `odplan gateway status --json`."""
        return {k: v for k, v in asdict(self).items() if k != "admin_token"}


def default_db(env: Mapping[str, str]) -> Path:
    """The state file every local gateway shares (`serve`, `start` and `--gateway local`)."""
    return local_dir(env) / DB_NAME


def _record_path(folder: Path) -> Path:
    return folder / RECORD_NAME


def write_record(folder: Path, record: PlatformRecord) -> None:
    """Say that this process serves the state in `folder` (0600, replaced atomically). The
    folder's own mode is left alone: a `--db` folder may hold a runtime folder that the
    unprivileged build user must traverse."""
    target = _record_path(folder)
    partial = target.with_suffix(".tmp")
    partial.write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")
    partial.chmod(0o600)
    os.replace(partial, target)


def read_record(folder: Path) -> PlatformRecord | None:
    """The record in `folder`, alive or not; None when absent or unreadable."""
    try:
        raw: Any = json.loads(_record_path(folder).read_text(encoding="utf-8"))
        return PlatformRecord(
            pid=int(raw["pid"]),
            pgid=int(raw["pgid"]),
            api_url=str(raw["api_url"]),
            router_port=None if raw.get("router_port") is None else int(raw["router_port"]),
            runtime=str(raw.get("runtime") or "simulate"),
            db_path=str(raw.get("db_path") or ""),
            started_at=float(raw.get("started_at") or 0),
            admin_token=raw.get("admin_token") or None,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_record(folder: Path, pid: int) -> None:
    """Remove the record if it is still this process's own."""
    record = read_record(folder)
    if record is not None and record.pid == pid:
        with contextlib.suppress(FileNotFoundError):
            _record_path(folder).unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours (the platform we just started and stopped) is not serving.
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_ours(record: PlatformRecord) -> bool:
    """The recorded process is alive and still the gateway that wrote the record (a pid the
    system reused for another program must never be signalled)."""
    if not _alive(record.pid):
        return False
    try:
        if os.getpgid(record.pid) != record.pgid:
            return False
        with open(f"/proc/{record.pid}/cmdline", "rb") as cmdline:
            return b"gateway\0serve" in cmdline.read()
    except (ProcessLookupError, PermissionError):
        return False
    except OSError:  # no /proc: the pid and process group match
        return True


def serving(folder: Path) -> PlatformRecord | None:
    """The gateway serving the state in `folder`, or None (a stale record is ignored)."""
    record = read_record(folder)
    if record is None or not _is_ours(record):
        return None
    return record


def running_platform(env: Mapping[str, str]) -> PlatformRecord | None:
    """The platform serving `~/.opendeploy/local/`, or None."""
    return serving(local_dir(env))


def live_url(domain: str, record: PlatformRecord) -> str:
    """Where the platform's router serves an auto domain on this machine:
    `web.opendeploy.run` -> `http://web.localhost:8788`, `web.dev.opendeploy.run` ->
    `http://web.dev.localhost:8788`. Other names: the router, with the name in the Host header."""
    port = record.router_port
    for base in sorted(platform.AUTO_DOMAIN_BASE.values(), key=len, reverse=True):
        if domain.endswith("." + base):
            prefix = domain[: -len(base) - 1]
            local = base.removesuffix("opendeploy.run") + "localhost"
            return f"http://{prefix}.{local}:{port}"
    return f"http://{domain}:{port}"


def start_platform(
    env: Mapping[str, str],
    *,
    serve_args: Sequence[str],
    timeout: float = 120.0,
) -> PlatformRecord:
    """Start `odplan gateway serve` in its own session, detached; wait until it answers.

    Its output goes to `platform.log` in the state folder. Raises `PlatformError` when one is
    already running or it does not come up (the log's last lines in the message).
    """
    folder = local_dir(env)
    ensure_private_dir(folder)
    current = running_platform(env)
    if current is not None:
        raise PlatformError(
            f"the local platform already runs (pid {current.pid}) at {current.api_url}",
            f"Stop it with `{STOP_COMMAND}` first.",
        )
    with contextlib.suppress(FileNotFoundError):
        _record_path(folder).unlink()  # stale: its process is gone
    log_path = folder / LOG_NAME
    command = [sys.executable, "-m", "opendeploy_plan", "gateway", "serve", *serve_args]
    with open(log_path, "ab") as log:
        os.chmod(log_path, 0o600)
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # leads its own process group: stopped by it, not by name
            env=dict(env),
            close_fds=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = read_record(folder)
        if record is not None and record.pid == child.pid and _answers(record):
            return record
        if child.poll() is not None:
            raise PlatformError(
                f"the local platform stopped while starting (exit {child.returncode}):\n"
                + _tail(log_path),
                f"See {log_path}.",
            )
        time.sleep(0.1)
    _stop_group(child.pid, child.pid, grace=5.0)
    raise PlatformError(
        f"the local platform did not answer within {timeout:.0f} s:\n" + _tail(log_path),
        f"See {log_path}.",
    )


def _answers(record: PlatformRecord) -> bool:
    import httpx

    try:
        return httpx.get(f"{record.api_url}/v1/regions/", timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join("  " + line for line in text.splitlines()[-lines:])


def stop_platform(env: Mapping[str, str], grace: float = 20.0) -> PlatformRecord | None:
    """Stop the platform the record names (SIGTERM to its process group, SIGKILL after
    `grace` seconds); None when none was running. The record is removed either way."""
    folder = local_dir(env)
    record = read_record(folder)
    if record is None:
        return None
    running = _is_ours(record)
    if running:
        _stop_group(record.pid, record.pgid, grace=grace)
    with contextlib.suppress(FileNotFoundError):
        _record_path(folder).unlink()
    return record if running else None


def _stop_group(pid: int, pgid: int, *, grace: float) -> None:
    """SIGTERM the group (the gateway stops its apps and databases), then SIGKILL it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pid)
        if not _alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    for _ in range(50):
        _reap(pid)
        if not _alive(pid):
            return
        time.sleep(0.1)


def _reap(pid: int) -> None:
    """Collect the exit of our own child (a started-then-stopped platform), if it is ours."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
