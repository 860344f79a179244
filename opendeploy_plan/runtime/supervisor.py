"""Start, watch and stop one command (a build step, an app, a database) under its own watchdog.

Each command runs under `watchdog.py`, a small supervisor process that leads a new process
group and stops that group when the gateway's end of a pipe closes, so even `kill -9` of the
gateway leaves no orphan. The gateway tracks processes by PID and process group only; nothing
is ever killed by name. When the gateway runs as root, the command runs as an unprivileged
user (`odplan-run`, created on first use; `nobody` where it cannot be): user code never runs
as root.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from opendeploy_plan.runtime.files import write_private
from opendeploy_plan.runtime.logs import LogStream, pump_lines

WATCHDOG: Final = Path(__file__).with_name("watchdog.py")
# The dedicated user for builds and apps when the gateway is root; `nobody` when it cannot be
# created (no useradd, a read-only /etc). `ODPLAN_RUN_USER` names another existing user.
RUN_USER: Final = "odplan-run"
FALLBACK_USER: Final = "nobody"
RUN_USER_ENV: Final = "ODPLAN_RUN_USER"


@dataclass(frozen=True)
class RunAs:
    """The user that builds and runs user code (only set when the gateway is root)."""

    name: str
    uid: int
    gid: int


def unprivileged_user() -> RunAs | None:
    """The user that builds and runs user code when this process is root, else None (user
    code then runs as this process's own, unprivileged, user)."""
    if os.geteuid() != 0:
        return None
    return _run_user(os.environ.get(RUN_USER_ENV, ""))


@functools.cache
def _run_user(asked: str) -> RunAs:
    """`asked` (it must exist and not be root), else `odplan-run` (created as a system user
    with no home and no login shell the first time), else `nobody`."""
    if asked:
        entry = _lookup(asked)
        if entry is None or entry.pw_uid == 0:
            raise ValueError(f"{RUN_USER_ENV}={asked}: not an existing unprivileged user")
        return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)
    entry = _lookup(RUN_USER) or _create_run_user() or _lookup(FALLBACK_USER)
    if entry is None:
        raise RuntimeError(f"no unprivileged user to run user code: create {RUN_USER}")
    return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _lookup(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _create_run_user() -> pwd.struct_passwd | None:
    """Create `odplan-run`; None when this machine does not allow it. Two gateways starting at
    once may race: whichever loses finds the user the other made."""
    useradd = shutil.which("useradd") or shutil.which("useradd", path="/usr/sbin:/sbin")
    if useradd is None:
        return None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "--comment",
                "odplan local runtime (builds and runs user code)",
                RUN_USER,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
    return _lookup(RUN_USER)


def reachable_by(path: Path, run_as: RunAs | None) -> bool:
    """Whether `run_as` can reach (search every parent of) and read `path`, by mode bits."""
    if run_as is None:
        return os.access(path, os.R_OK)
    try:
        target = path.resolve()
        chain = [*reversed(target.parents), target]
        for index, part in enumerate(chain):
            info = part.stat()
            last = index == len(chain) - 1
            need = 0o4 if last and not part.is_dir() else 0o5 if last else 0o1
            if info.st_uid == run_as.uid:
                bits = (info.st_mode >> 6) & 0o7
            elif info.st_gid == run_as.gid:
                bits = (info.st_mode >> 3) & 0o7
            else:
                bits = info.st_mode & 0o7
            if bits & need != need:
                return False
    except OSError:
        return False
    return True


def hand_over(path: Path, run_as: RunAs | None) -> None:
    """Make `path` (a folder tree we created) owned by the run-as user, so builds can write."""
    if run_as is None:
        return
    for root, dirs, files in os.walk(path):
        os.lchown(root, run_as.uid, run_as.gid)
        for name in dirs + files:
            os.lchown(os.path.join(root, name), run_as.uid, run_as.gid)


def owned_by(path: Path, run_as: RunAs | None) -> bool:
    """Whether `path` belongs to the run-as user (always true without one)."""
    return run_as is None or path.lstat().st_uid == run_as.uid


def memory_cgroup(label: str) -> str | None:
    """A cgroup v2 folder for a memory limit, where this process may create one; else None
    (the watchdog then watches RSS instead)."""
    try:
        own = Path("/proc/self/cgroup").read_text().splitlines()
        unified = next(line[3:] for line in own if line.startswith("0::"))
        base = Path("/sys/fs/cgroup") / unified.lstrip("/")
        controls = (base / "cgroup.subtree_control").read_text()
    except (OSError, StopIteration):
        return None
    if "memory" not in controls.split() or not os.access(base, os.W_OK):
        return None
    return str(base / f"odplan-{label}")


class Supervised:
    """One command under a watchdog. Output goes line by line into `log` under `phase`.

    Invariant: after `stop()` returns, no process of the group is alive and the port the
    command held is free (its owner is gone).
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log: LogStream,
        phase: str,
        run_as: RunAs | None,
        memory_limit_bytes: int | None = None,
        grace_seconds: float = 5.0,
        label: str = "service",
        stop_signal: int = signal.SIGTERM,
        stdin_env: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.log = log
        self.phase = phase
        self._lock = threading.Lock()
        self._returncode: int | None = None
        read_end, self._watch_end = os.pipe()
        config = {
            "argv": self.argv,
            "cwd": str(cwd),
            "uid": run_as.uid if run_as else None,
            "gid": run_as.gid if run_as else None,
            "memory_limit_bytes": memory_limit_bytes,
            # Where writable, a cgroup enforces the limit (joined when a limit is set, at start
            # or by a resize); elsewhere the watchdog watches the group's RSS.
            "cgroup": memory_cgroup(f"{label}-{os.getpid()}-{id(self):x}"),
            "watch_fd": read_end,
            "grace": grace_seconds,
            "stop_signal": int(stop_signal),
            "stdin_env": stdin_env,
        }
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", str(WATCHDOG), json.dumps(config)],
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=(read_end,),
            )
        finally:
            os.close(read_end)
        self.pid = self._process.pid
        self.pgid = self._process.pid
        assert self._process.stdout is not None
        self._pump = pump_lines(self._process.stdout, log, phase=phase)

    def set_memory_limit(self, limit_bytes: int | None) -> bool:
        """Resize the running command's memory limit (None: no limit); the watchdog enforces
        it at once and says so in the log. False when the command has already ended."""
        with self._lock:
            if self._exited():
                return False
            try:
                os.write(self._watch_end, f"memory_limit {limit_bytes or 0}\n".encode())
            except OSError:
                return False
            return True

    def _exited(self) -> bool:
        """Whether the watchdog has exited, without reaping it (its PID stays ours)."""
        if self._returncode is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None and info.si_pid == self.pid

    def alive(self) -> bool:
        with self._lock:
            return not self._exited()

    @property
    def returncode(self) -> int | None:
        return self._returncode

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code once the command ends, or None when `timeout` passes first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if self._exited():
                    self._reap()
                    return self._returncode
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def _reap(self) -> None:
        if self._returncode is not None:
            return
        # The watchdog is a zombie, so its PID (the group id) cannot be reused yet: clear
        # anything left in the group before reaping it.
        self._kill_group(signal.SIGKILL)
        self._returncode = self._process.wait()
        os.close(self._watch_end)
        self._pump.join(timeout=2)

    def _kill_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signum)

    def stop(self, grace_seconds: float = 5.0) -> int | None:
        """Ask the watchdog to stop its command (its stop signal, then SIGKILL after its
        grace); SIGKILL the whole group if it is still there after `grace_seconds`."""
        with self._lock:
            if not self._exited():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGTERM)
        code = self.wait(grace_seconds + 1.0)
        if code is None:
            with self._lock:
                self._kill_group(signal.SIGKILL)
            code = self.wait(5.0)
        return code


def _start_ticks(pid: int) -> int | None:
    """The process's start time (clock ticks since boot), to tell a PID from its reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return int(stat[stat.rfind(b")") + 2 :].split()[19])


class ProcessLedger:
    """The watchdogs this gateway started, on disk (PIDs only, never an environment), so a
    gateway restarted after a crash can stop whatever the crash left behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, dict[str, object]]) -> None:
        write_private(self.path, json.dumps(data))

    def record(self, process: Supervised) -> None:
        with self._lock:
            data = self._read()
            data[str(process.pgid)] = {"ticks": _start_ticks(process.pid), "label": process.phase}
            self._write(data)

    def forget(self, process: Supervised) -> None:
        with self._lock:
            data = self._read()
            data.pop(str(process.pgid), None)
            self._write(data)

    def sweep(self) -> list[int]:
        """SIGKILL every recorded group whose leader is still the same process; clear the list."""
        swept = []
        with self._lock:
            for key, entry in self._read().items():
                pgid = int(key)
                if entry.get("ticks") is not None and _start_ticks(pgid) == entry["ticks"]:
                    try:
                        os.killpg(pgid, signal.SIGKILL)
                        swept.append(pgid)
                    except OSError:
                        pass
            self._write({})
        return swept
