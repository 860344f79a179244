"""The per-service supervisor process: leads its process group, runs one command in it, and
stops the whole group when the gateway goes away.

Run by file path (`python -I watchdog.py CONFIG_JSON`), stdlib only, so it starts fast and never
imports user-influenced code. The gateway holds the write end of a pipe whose read end is
`watch_fd` here; when every copy of the write end closes (the gateway exited or was killed
with -9), a read returns EOF and the group is stopped. The gateway also writes commands on
that pipe, one a line: `memory_limit <bytes>` resizes the memory limit of the running
command (0: none). The command's environment is this process's environment: secrets travel
through `exec`, never through a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from typing import Any

_POLL_SECONDS = 0.2
_MEMORY_POLL_SECONDS = 0.5
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # Fields after the `(comm)` are space separated: state first, pgrp third. A zombie is
        # already dead (only its parent can reap it), so it does not count.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != b"Z":
            members.append(int(entry))
    return members


def _group_rss_bytes(pgid: int, me: int) -> int:
    total = 0
    for pid in _group_members(pgid):
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


def _say(text: str) -> None:
    # The gateway may be gone (its end of our stdout with it): never fail over a message.
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.write(f"[opendeploy-local] {text}\n")
        sys.stdout.flush()


def _stop_children(
    child: subprocess.Popen[bytes], pgid: int, grace: float, signum: int = signal.SIGTERM
) -> None:
    """Signal the group except this process, then SIGKILL whatever is left after `grace`."""
    me = os.getpid()
    for pid in _group_members(pgid):
        if pid != me:
            with contextlib.suppress(OSError):
                os.kill(pid, signum)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if child.poll() is not None and all(p == me for p in _group_members(pgid)):
            return
        time.sleep(0.05)
    for pid in _group_members(pgid):
        if pid != me:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    child.wait()


def _join_cgroup(cgroup: str | None, limit: int | None, pid: int) -> bool:
    """Put `pid` in a fresh cgroup v2 (or v1 memory) group with `limit`, where writable."""
    if not cgroup or not limit:
        return False
    try:
        os.makedirs(cgroup, exist_ok=True)
        limit_file = (
            "memory.max" if os.path.exists(f"{cgroup}/memory.max") else ("memory.limit_in_bytes")
        )
        with open(f"{cgroup}/{limit_file}", "w") as handle:
            handle.write(str(limit))
        with open(f"{cgroup}/cgroup.procs", "w") as handle:
            handle.write(str(pid))
        return True
    except OSError:
        return False


def _resize_cgroup(cgroup: str, limit: int | None) -> bool:
    """Set the memory limit of the group's cgroup to `limit` (None: no limit)."""
    name = "memory.max" if os.path.exists(f"{cgroup}/memory.max") else "memory.limit_in_bytes"
    value = str(limit) if limit else ("max" if name == "memory.max" else "-1")
    try:
        with open(f"{cgroup}/{name}", "w") as handle:
            handle.write(value)
        return True
    except OSError:
        return False


def _commands(buffer: bytes) -> tuple[list[list[str]], bytes]:
    """Complete lines of the gateway's commands, and what is left of an unfinished one."""
    *lines, rest = buffer.split(b"\n")
    return [line.decode(errors="replace").split() for line in lines if line.strip()], rest


def _cgroup_oom_killed(cgroup: str) -> bool:
    try:
        with open(f"{cgroup}/memory.events") as handle:
            return any(line.startswith("oom_kill ") and line.split()[1] != "0" for line in handle)
    except OSError:
        return False


def _apply_limit(cgroup: str | None, limit: int | None, in_cgroup: bool, pgid: int) -> bool:
    """Enforce a new limit: in the group's cgroup when it has one (joining every process of
    the group to a fresh one where writable); otherwise the RSS watch uses it. Whether the
    group is now in a cgroup."""
    if in_cgroup and cgroup:
        return _resize_cgroup(cgroup, limit) or in_cgroup
    if not cgroup or not limit:
        return False
    me = os.getpid()
    members = [pid for pid in _group_members(pgid) if pid != me]
    return bool(members) and all(_join_cgroup(cgroup, limit, pid) for pid in members)


def main(config: dict[str, Any]) -> int:
    watch_fd = int(config["watch_fd"])
    grace = float(config.get("grace", 5.0))
    limit = config.get("memory_limit_bytes")
    pgid = os.getpgid(0)
    stopping = False

    def on_term(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    stop_signal = int(config.get("stop_signal") or signal.SIGTERM)
    uid, gid = config.get("uid"), config.get("gid")
    # Input for the command (a server's configuration, a password) comes through this
    # process's environment and a pipe, never a file; the command does not see the variable.
    stdin_text = os.environ.pop(config["stdin_env"], "") if config.get("stdin_env") else None
    try:
        child = subprocess.Popen(
            config["argv"],
            cwd=config["cwd"],
            stdin=subprocess.DEVNULL if stdin_text is None else subprocess.PIPE,
            user=uid,
            group=gid,
            extra_groups=[] if uid is not None else None,
            umask=0o022,
        )
    except OSError as error:
        _say(f"could not start {config['argv'][0]}: {error.strerror or error}")
        return 127
    if stdin_text is not None and child.stdin is not None:
        with contextlib.suppress(OSError):
            child.stdin.write(stdin_text.encode())
        child.stdin.close()
    in_cgroup = _join_cgroup(config.get("cgroup"), limit, child.pid)
    next_memory_check = time.monotonic()
    pending = b""
    while True:
        code = child.poll()
        if code is not None:
            if in_cgroup and code == -signal.SIGKILL and _cgroup_oom_killed(config["cgroup"]):
                _say(
                    f"out of memory: the service went over its limit of {(limit or 0) // 2**20} MiB"
                )
            # The command is gone; take any helpers it left in the group with it.
            _stop_children(child, pgid, 0.5)
            return code if code >= 0 else 128 - code
        if stopping:
            _stop_children(child, pgid, grace, stop_signal)
            return 143
        try:
            ready, _, _ = select.select([watch_fd], [], [], _POLL_SECONDS)
        except InterruptedError:
            continue
        if ready:
            data = os.read(watch_fd, 4096)
            if not data:
                _say("the gateway went away; stopping")
                _stop_children(child, pgid, min(grace, 2.0), stop_signal)
                return 143
            commands, pending = _commands(pending + data)
            for command in commands:
                if command[0] == "memory_limit" and len(command) == 2 and command[1].isdigit():
                    limit = int(command[1]) or None
                    in_cgroup = _apply_limit(config.get("cgroup"), limit, in_cgroup, pgid)
                    shown = f"{limit // 2**20} MiB" if limit else "none"
                    _say(f"memory limit changed to {shown} while running")
                    next_memory_check = time.monotonic()
        if limit and not in_cgroup and time.monotonic() >= next_memory_check:
            next_memory_check = time.monotonic() + _MEMORY_POLL_SECONDS
            used = _group_rss_bytes(pgid, os.getpid())
            if used > limit:
                _say(
                    f"out of memory: the service used {used // 2**20} MiB, over its limit of "
                    f"{limit // 2**20} MiB; stopped"
                )
                _stop_children(child, pgid, 0.5)
                return 137


if __name__ == "__main__":
    settings = json.loads(sys.argv[1])
    code = main(settings)
    if settings.get("cgroup"):
        with contextlib.suppress(OSError):
            os.rmdir(settings["cgroup"])  # empty now: its processes are gone
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.close()
    os._exit(code)
