"""The watchdog: environment only in memory, unprivileged user, whole-group stop, no orphans
when the gateway is killed with -9, memory limit, and the ledger's sweep after a crash."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from opendeploy_plan.runtime import LogStream, ProcessLedger, Supervised, unprivileged_user

from .conftest import wait_for


def group_alive(pgid: int) -> bool:
    """Whether any non-zombie process is left in the group."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False


def start(command: str, log: LogStream, **options: object) -> Supervised:
    return Supervised(
        ["/bin/sh", "-c", command],
        cwd=Path("/tmp"),
        env={"PATH": "/usr/bin:/bin", "GREETING": "hi there"},
        log=log,
        phase="runtime",
        run_as=unprivileged_user(),
        **options,  # type: ignore[arg-type]
    )


def test_output_environment_and_exit_code() -> None:
    log = LogStream()
    process = start('echo "$GREETING"; id -u; exit 3', log)
    assert process.wait(10) == 3
    lines = [line.message for line in log.lines()]
    assert lines[0] == "hi there"
    if os.geteuid() == 0:
        assert lines[1] != "0"  # user code never runs as root


def test_stop_takes_the_whole_group_down() -> None:
    log = LogStream()
    process = start("sleep 300 & sleep 300 & echo started; wait", log)
    assert wait_for(lambda: any(line.message == "started" for line in log.lines()))
    assert group_alive(process.pgid)
    process.stop(2)
    assert not group_alive(process.pgid)


def test_gateway_killed_with_minus_9_leaves_no_process_behind(tmp_path: Path) -> None:
    gateway = tmp_path / "gateway.py"
    gateway.write_text(
        textwrap.dedent(
            """
            import sys, time
            from pathlib import Path
            from opendeploy_plan.runtime import LogStream, Supervised
            process = Supervised(["/bin/sh", "-c", "sleep 300 & sleep 300"], cwd=Path("/tmp"),
                                 env={"PATH": "/usr/bin:/bin"}, log=LogStream(),
                                 phase="runtime", run_as=None)
            print(process.pgid, flush=True)
            time.sleep(300)
            """
        )
    )
    fake = subprocess.Popen([sys.executable, str(gateway)], stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None
    pgid = int(fake.stdout.readline())
    assert wait_for(lambda: group_alive(pgid))
    os.kill(fake.pid, signal.SIGKILL)
    fake.wait()
    assert wait_for(lambda: not group_alive(pgid), timeout=5.0)


def test_memory_limit_stops_the_process_with_an_out_of_memory_line() -> None:
    log = LogStream()
    grow = (
        "import time\nx = []\nwhile True:\n    x.append(bytearray(8 << 20))\n    time.sleep(0.01)"
    )
    process = Supervised(
        ["/usr/bin/python3", "-c", grow],
        cwd=Path("/tmp"),
        env={"PATH": "/usr/bin:/bin"},
        log=log,
        phase="runtime",
        run_as=unprivileged_user(),
        memory_limit_bytes=64 * 2**20,
    )
    assert process.wait(20) == 137
    assert any("out of memory" in line.message for line in log.lines())


def test_ledger_sweeps_what_a_crash_left(tmp_path: Path) -> None:
    ledger = ProcessLedger(tmp_path / "processes.json")
    process = start("sleep 300", LogStream())
    ledger.record(process)
    assert ProcessLedger(tmp_path / "processes.json").sweep() == [process.pgid]
    assert process.wait(5) is not None
    assert ledger.sweep() == []


def test_ledger_spares_a_group_whose_leader_is_another_process_now(tmp_path: Path) -> None:
    # A recorded group id whose leader started at another time is a reused PID: not ours to
    # kill. The stand-in is our own child, in its own session, stopped by us below.
    other = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        ticks = int(Path(f"/proc/{other.pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[19])
        ledger_file = tmp_path / "processes.json"
        ledger_file.write_text(
            json.dumps(
                {
                    str(other.pid): {"ticks": ticks + 1, "label": "runtime"},
                    str(other.pid + 1_000_000): {"ticks": None, "label": "build"},
                }
            )
        )
        assert ProcessLedger(ledger_file).sweep() == []
        assert other.poll() is None and group_alive(other.pid)
        assert json.loads(ledger_file.read_text()) == {}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(other.pid, signal.SIGKILL)
        other.wait(5)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root switches to the unprivileged user")
def test_unprivileged_user_is_not_root() -> None:
    run_as = unprivileged_user()
    assert run_as is not None and run_as.uid != 0


HOLD_100_MIB = "import time\nx = bytearray(100 << 20)\nprint('holding', flush=True)\ntime.sleep(60)"


def hold(log: LogStream, limit: int | None) -> Supervised:
    return Supervised(
        ["/usr/bin/python3", "-c", HOLD_100_MIB],
        cwd=Path("/tmp"),
        env={"PATH": "/usr/bin:/bin"},
        log=log,
        phase="runtime",
        run_as=unprivileged_user(),
        memory_limit_bytes=limit,
    )


def test_a_limit_lowered_while_running_stops_the_process_with_an_out_of_memory_line() -> None:
    log = LogStream()
    process = hold(log, None)  # no limit at start
    try:
        assert wait_for(lambda: any(line.message == "holding" for line in log.lines()))
        assert process.set_memory_limit(512 * 2**20)  # raised: above its 100 MiB, it lives on
        assert process.wait(1.5) is None
        assert process.set_memory_limit(48 * 2**20)  # lowered under what it holds
        assert process.wait(10) == 137
        messages = [line.message for line in log.lines()]
        assert any("memory limit changed to 48 MiB while running" in m for m in messages)
        assert any("out of memory" in m and "limit of 48 MiB" in m for m in messages), messages
    finally:
        process.stop(2)
    assert not process.set_memory_limit(10 * 2**20)  # ended: nothing to resize
