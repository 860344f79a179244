"""What apply, destroy and the planning pass show while they work, on stderr.

Two forms, chosen by `progress_mode()`:

* **live** (stderr is a terminal, and neither `NO_COLOR` nor `CI` is set): one line per action,
  updated in place by a rich live display, with its elapsed time and, under the service being
  built, the last lines of its build log; "Refreshing state…" while the live state is read.
* **plain** (piped, `NO_COLOR`, `CI`, `--json`): one line per event, prefixed with the time
  since the start. A build's percentage is not an event: "building 11%", "building 12%", …
  print as one "building" line.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal, TextIO

import click
from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from opendeploy_plan.apply.scheduler import StepOutcome, StepResult
from opendeploy_plan.plan import PlannedAction
from opendeploy_plan.render.apply_view import ConsoleApplyView, error_text

__all__ = [
    "LOG_LINES",
    "LiveProgress",
    "PlainProgress",
    "ProgressMode",
    "progress_mode",
    "refreshing",
]

ProgressMode = Literal["live", "plain"]

# How many of the build log's last lines stay under the service being built.
LOG_LINES = 4

_PERCENT = re.compile(r"\s+\d{1,3}%$")

_VERBS = {
    "create": "creating",
    "update": "updating",
    "replace": "replacing",
    "delete": "deleting",
    "bind_source": "uploading source",
    "deploy": "deploying",
    "rename_domain": "renaming",
    "wait": "waiting",
}


def progress_mode(
    stream: TextIO | None = None, env: Mapping[str, str] | None = None
) -> ProgressMode:
    """Live on a terminal; plain when piped or when `NO_COLOR` or `CI` is set."""
    env = os.environ if env is None else env
    stream = sys.stderr if stream is None else stream
    if env.get("NO_COLOR") or env.get("CI"):
        return "plain"
    isatty = getattr(stream, "isatty", None)
    return "live" if isatty is not None and isatty() else "plain"


class PlainProgress(ConsoleApplyView):
    """One line per event; percentages of one status fold into that status's line."""

    def action_progress(self, action: PlannedAction, message: str) -> None:
        super().action_progress(action, _PERCENT.sub("", message))

    def action_log(self, action: PlannedAction, line: str) -> None:
        """Build output is not repeated in plain mode: a failure prints the log's tail."""

    def close(self) -> None:
        return None


@dataclass
class _Row:
    address: str
    verb: str
    started: float
    message: str = ""
    state: str = "running"  # running, done, failed, skipped, not started
    ended: float | None = None
    logs: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))


class LiveProgress:
    """One line per action, updated in place; the build log's last lines under a build."""

    def __init__(self, stream: TextIO, *, color: bool = True) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.rows: dict[str, _Row] = {}
        self._console = Console(
            file=stream,
            force_terminal=True,
            color_system="standard" if color else None,
            no_color=not color,
            highlight=False,
        )
        self._live: Live | None = None

    # --- the executor's hooks --------------------------------------------------------------------

    def action_started(self, action: PlannedAction) -> None:
        verb = _VERBS.get(str(action.kind), str(action.kind))
        self.rows[action.address] = _Row(action.address, verb, time.monotonic())
        self._start()
        self._refresh()

    def action_progress(self, action: PlannedAction, message: str) -> None:
        row = self.rows.get(action.address)
        if row is not None:
            row.message = message
            self._refresh()

    def action_log(self, action: PlannedAction, line: str) -> None:
        # TODO(h17-wire): escape control characters of gateway text here once that lands.
        row = self.rows.get(action.address)
        if row is not None and line.strip():
            row.logs.append(line.rstrip())
            self._refresh()

    def action_finished(self, action: PlannedAction, result: StepResult) -> None:
        row = self.rows.get(action.address)
        if row is None:
            row = self.rows[action.address] = _Row(action.address, "", time.monotonic())
        row.ended = time.monotonic()
        if result.outcome is StepOutcome.SUCCEEDED:
            row.state, row.message = "done", ""
            row.logs.clear()
        elif result.outcome is StepOutcome.FAILED:
            row.state, row.message = "failed", error_text(result.error)
        elif result.outcome is StepOutcome.SKIPPED:
            row.state, row.message = "skipped", f"({result.reason} failed)"
        else:
            row.state, row.message = "not started", "(interrupted)"
        self._refresh()

    def close(self) -> None:
        """Stop updating in place: the last frame stays on the screen."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    # --- drawing -------------------------------------------------------------------------------

    def _start(self) -> None:
        if self._live is None:
            self._live = Live(
                console=self._console,
                get_renderable=self.render,
                refresh_per_second=4,
                transient=False,
                # Lines written to stderr meanwhile (a retry said as it happens, the Ctrl-C
                # notice) are printed above the live lines instead of tearing them.
                redirect_stdout=False,
                redirect_stderr=True,
            )
            self._live.start()
            atexit.register(self.close)

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    def render(self) -> Group:
        """The current frame: a line per action, log lines under a running build."""
        now = time.monotonic()
        lines: list[Text] = []
        for row in self.rows.values():
            elapsed = (row.ended or now) - row.started
            mark, style = {
                "running": ("…", "cyan"),
                "done": ("✓", "green"),
                "failed": ("✗", "red"),
                "skipped": ("-", "yellow"),
                "not started": ("-", "yellow"),
            }[row.state]
            status = row.verb if row.state == "running" else row.state
            line = Text.assemble(
                (f"{mark} ", style),
                (row.address, "bold"),
                f"  {status}",
                (
                    f"  {row.message}" if row.message else "",
                    "dim" if row.state == "running" else style,
                ),
                (f"  {elapsed:.1f}s", "dim"),
            )
            lines.append(line)
            if row.state in ("running", "failed"):
                lines.extend(Text(f"    │ {log}", style="dim") for log in row.logs)
        return Group(*lines)


@contextmanager
def refreshing(mode: ProgressMode, stream: TextIO | None = None) -> Iterator[None]:
    """Say "Refreshing state…" while the live state is read: a spinner on a terminal (gone when
    done), one line otherwise."""
    stream = sys.stderr if stream is None else stream
    if mode == "plain":
        click.echo("Refreshing state…", err=True)
        yield
        return
    console = Console(file=stream, force_terminal=True, highlight=False)
    with console.status("Refreshing state…", spinner="dots"):
        yield
