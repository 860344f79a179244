"""Log lines as stored and delivered: a Windows line ending is dropped whole, the level a line
was written with is kept (also for a child's output pumped from a real pipe, decoded even when
it is not UTF-8), and subscribers get the same masked line that is stored."""

from __future__ import annotations

import os

from opendeploy_plan.runtime.logs import MASK, LogStream, pump_lines


def test_a_crlf_line_ending_is_dropped_whole() -> None:
    log = LogStream()
    assert log.write("done\r\n", phase="build").message == "done"
    assert log.write("kept\r inside\n", phase="build").message == "kept\r inside"


def test_the_level_and_phase_are_kept_and_subscribers_see_the_stored_line() -> None:
    log = LogStream(["hunter22"])
    seen = []
    log.subscribe(seen.append)
    line = log.write("password hunter22", phase="runtime", level="error")
    assert (line.phase, line.level, line.message) == ("runtime", "error", f"password {MASK}")
    assert seen == [line] == log.lines()


def test_a_pipe_is_pumped_line_by_line_with_its_level() -> None:
    read_end, write_end = os.pipe()
    log = LogStream()
    with os.fdopen(read_end, "rb") as pipe:
        thread = pump_lines(pipe, log, phase="building", level="error")
        os.write(write_end, b"first\nsecond \xff\nno newline")
        os.close(write_end)
        thread.join(5)
    assert not thread.is_alive()
    assert [(line.phase, line.level, line.message) for line in log.lines()] == [
        ("building", "error", "first"),
        ("building", "error", "second \ufffd"),
        ("building", "error", "no newline"),
    ]
