"""The watchdog's own decisions, run in this process on real children and tmp folders: which
processes count as the group, how gateway commands are read, how a cgroup limit is written,
and what a stopped or signalled command's exit code becomes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from opendeploy_plan.runtime import LogStream, Supervised, unprivileged_user, watchdog

from .conftest import wait_for


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A child leading its own process group, stopped by us."""
    child = subprocess.Popen(["sleep", "30"], start_new_session=True)
    yield child
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait(5)


def test_commands_are_complete_lines_and_the_rest_waits() -> None:
    commands, rest = watchdog._commands(b"memory_limit 5\n\n  \nmemory_limit 7\nmemory_li")
    assert commands == [["memory_limit", "5"], ["memory_limit", "7"]]
    assert rest == b"memory_li"
    assert watchdog._commands(b"") == ([], b"")
    assert watchdog._commands(b"memory_limit 9\n") == ([["memory_limit", "9"]], b"")


def test_group_members_are_the_live_processes_of_that_group(
    sleeper: subprocess.Popen[bytes],
) -> None:
    assert watchdog._group_members(sleeper.pid) == [sleeper.pid]
    assert sleeper.pid not in watchdog._group_members(os.getpgid(0))
    assert watchdog._group_rss_bytes(sleeper.pid, os.getpid()) > 0
    assert watchdog._group_rss_bytes(sleeper.pid, sleeper.pid) == 0  # itself not counted
    os.kill(sleeper.pid, signal.SIGKILL)
    # Dead but not reaped (a zombie): no longer a member.
    assert wait_for(lambda: watchdog._group_members(sleeper.pid) == [], timeout=5)
    assert sleeper.poll() == -signal.SIGKILL


def test_an_oom_kill_is_read_from_memory_events(tmp_path: Path) -> None:
    assert not watchdog._cgroup_oom_killed(str(tmp_path))  # no such file
    events = tmp_path / "memory.events"
    events.write_text("low 0\nhigh 0\nmax 4\noom 2\noom_kill 0\noom_group_kill 3\n")
    assert not watchdog._cgroup_oom_killed(str(tmp_path))
    events.write_text("low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\noom_group_kill 0\n")
    assert watchdog._cgroup_oom_killed(str(tmp_path))


def test_a_resize_writes_the_limit_or_no_limit_in_each_cgroup_version(tmp_path: Path) -> None:
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.max").write_text("max\n")
    assert watchdog._resize_cgroup(str(v2), 64 * 2**20)
    assert (v2 / "memory.max").read_text() == str(64 * 2**20)
    assert watchdog._resize_cgroup(str(v2), None)
    assert (v2 / "memory.max").read_text() == "max"
    assert not (v2 / "memory.limit_in_bytes").exists()
    v1 = tmp_path / "v1"
    v1.mkdir()
    assert watchdog._resize_cgroup(str(v1), 4096)
    assert (v1 / "memory.limit_in_bytes").read_text() == "4096"
    assert watchdog._resize_cgroup(str(v1), None)
    assert (v1 / "memory.limit_in_bytes").read_text() == "-1"
    assert not watchdog._resize_cgroup(str(tmp_path / "gone"), 4096)


def test_joining_a_cgroup_needs_a_folder_and_a_limit(tmp_path: Path) -> None:
    group = tmp_path / "odplan-x"
    assert not watchdog._join_cgroup(None, 4096, 123)
    assert not watchdog._join_cgroup(str(group), None, 123)
    assert not watchdog._join_cgroup(str(group), 0, 123)
    assert not group.exists()
    assert watchdog._join_cgroup(str(group), 4096, 123)
    assert (group / "memory.limit_in_bytes").read_text() == "4096"
    assert (group / "cgroup.procs").read_text() == "123"
    v2 = tmp_path / "odplan-y"
    v2.mkdir()
    (v2 / "memory.max").write_text("max")
    assert watchdog._join_cgroup(str(v2), 8192, 456)
    assert (v2 / "memory.max").read_text() == "8192"
    assert not (v2 / "memory.limit_in_bytes").exists()
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert not watchdog._join_cgroup(str(blocker / "sub"), 4096, 123)


def test_a_new_limit_resizes_a_joined_cgroup_or_joins_the_members(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    joined = tmp_path / "joined"
    joined.mkdir()
    (joined / "memory.max").write_text("1024")
    assert watchdog._apply_limit(str(joined), None, True, sleeper.pid)
    assert (joined / "memory.max").read_text() == "max"
    # A resize that cannot be written leaves the group where it is: still in its cgroup.
    assert watchdog._apply_limit(str(tmp_path / "gone"), 4096, True, sleeper.pid)
    # Not in a cgroup: without a folder or a limit, the RSS watch enforces it.
    assert not watchdog._apply_limit(None, 4096, False, sleeper.pid)
    assert not watchdog._apply_limit(str(tmp_path / "a"), None, False, sleeper.pid)
    assert not (tmp_path / "a").exists()
    fresh = tmp_path / "fresh"
    assert watchdog._apply_limit(str(fresh), 4096, False, sleeper.pid)
    assert (fresh / "cgroup.procs").read_text() == str(sleeper.pid)
    assert (fresh / "memory.limit_in_bytes").read_text() == "4096"
    # A group with no member but this process: nothing joined.
    assert not watchdog._apply_limit(str(tmp_path / "empty"), 4096, False, 2**22 + 7)


def test_stop_children_kills_what_ignores_the_signal_after_the_grace() -> None:
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\n"
            "time.sleep(30)",
        ],
        start_new_session=True,
        stdout=subprocess.PIPE,
    )
    try:
        assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
        started = time.monotonic()
        watchdog._stop_children(stubborn, stubborn.pid, 0.6)
        elapsed = time.monotonic() - started
        assert stubborn.returncode == -signal.SIGKILL
        assert 0.5 <= elapsed < 3.0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(stubborn.pid, signal.SIGKILL)
        stubborn.wait(5)


def test_stop_children_returns_as_soon_as_the_group_is_gone() -> None:
    polite = subprocess.Popen(
        [sys.executable, "-c", "import time\nprint('ready', flush=True)\ntime.sleep(30)"],
        start_new_session=True,
        stdout=subprocess.PIPE,
    )
    try:
        assert polite.stdout is not None and polite.stdout.readline() == b"ready\n"
        started = time.monotonic()
        watchdog._stop_children(polite, polite.pid, 10.0, signal.SIGINT)
        assert time.monotonic() - started < 3.0
        assert polite.wait(5) == -signal.SIGINT  # the signal asked for, not SIGTERM
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(polite.pid, signal.SIGKILL)
        polite.wait(5)


def supervised(code: str, log: LogStream, **options: object) -> Supervised:
    return Supervised(
        ["/usr/bin/python3", "-c", code],
        cwd=Path("/tmp"),
        env=options.pop("env", {"PATH": "/usr/bin:/bin"}),  # type: ignore[arg-type]
        log=log,
        phase="runtime",
        run_as=unprivileged_user(),
        **options,  # type: ignore[arg-type]
    )


def messages(log: LogStream) -> list[str]:
    return [line.message for line in log.lines()]


def test_a_command_killed_by_a_signal_exits_128_plus_it() -> None:
    log = LogStream()
    killed = supervised("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", log)
    assert killed.wait(10) == 128 + signal.SIGKILL
    assert supervised("import sys\nsys.exit(0)", log).wait(10) == 0
    assert supervised("import sys\nsys.exit(5)", log).wait(10) == 5
    # Without a cgroup, a SIGKILL is no out-of-memory kill.
    assert not any("out of memory" in message for message in messages(log))


def test_input_comes_through_stdin_and_its_variable_is_hidden() -> None:
    log = LogStream()
    reader = supervised(
        "import os, sys\nprint('in:' + sys.stdin.read(), flush=True)\n"
        "print('var:' + os.environ.get('ODPLAN_T_IN', 'absent'), flush=True)\n"
        "print('umask:' + oct(os.umask(0)), flush=True)",
        log,
        env={"PATH": "/usr/bin:/bin", "ODPLAN_T_IN": "config-text"},
        stdin_env="ODPLAN_T_IN",
    )
    assert reader.wait(10) == 0
    assert messages(log) == ["in:config-text", "var:absent", "umask:0o22"]
    # Without stdin_env the command reads nothing and sees its environment whole.
    other = LogStream()
    plain = supervised(
        "import os, sys\nprint('in:' + sys.stdin.read(), flush=True)\n"
        "print('var:' + os.environ.get('ODPLAN_T_IN', 'absent'), flush=True)",
        other,
        env={"PATH": "/usr/bin:/bin", "ODPLAN_T_IN": "config-text"},
    )
    assert plain.wait(10) == 0
    assert messages(other) == ["in:", "var:config-text"]


HANDLES = (
    "import signal, sys, time\n"
    "def bye(signum, frame):\n"
    "    print('got', signal.Signals(signum).name, flush=True)\n"
    "    sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, bye)\n"
    "signal.signal(signal.SIGINT, bye)\n"
    "print('ready', flush=True)\n"
    "time.sleep(30)\n"
)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_stop_sends_the_commands_own_stop_signal(stop_signal: int) -> None:
    log = LogStream()
    process = supervised(HANDLES, log, stop_signal=stop_signal)
    try:
        assert wait_for(lambda: "ready" in messages(log))
        assert process.stop(5) == 143
        assert f"got {signal.Signals(stop_signal).name}" in messages(log)
    finally:
        process.stop(1)


def test_a_command_that_ignores_its_stop_signal_is_killed_after_its_grace() -> None:
    log = LogStream()
    process = supervised(
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\ntime.sleep(30)",
        log,
        grace_seconds=0.5,
    )
    try:
        assert wait_for(lambda: "ready" in messages(log))
        started = time.monotonic()
        assert process.stop(10) == 143
        assert time.monotonic() - started < 3.0
    finally:
        process.stop(1)


def test_removing_the_limit_while_running_says_none() -> None:
    log = LogStream()
    process = supervised(
        "import time\nx = bytearray(40 << 20)\nprint('ready', flush=True)\ntime.sleep(30)", log
    )
    try:
        assert wait_for(lambda: "ready" in messages(log))
        assert process.set_memory_limit(None)
        assert wait_for(
            lambda: any("memory limit changed to none while running" in m for m in messages(log))
        )
        assert process.wait(1) is None
        # Under the 40 MiB it holds (and its interpreter), though not by half.
        assert process.set_memory_limit(32 * 2**20)
        assert process.wait(10) == 137
        assert any(
            "out of memory" in m and "over its limit of 32 MiB" in m for m in messages(log)
        ), messages(log)
    finally:
        process.stop(1)


def test_the_command_that_cannot_start_exits_127() -> None:
    log = LogStream()
    process = Supervised(
        ["/nonexistent/odplan-no-such-binary"],
        cwd=Path("/tmp"),
        env={"PATH": "/usr/bin:/bin"},
        log=log,
        phase="runtime",
        run_as=unprivileged_user(),
    )
    assert process.wait(10) == 127
    assert any("could not start /nonexistent/odplan-no-such-binary" in m for m in messages(log))
