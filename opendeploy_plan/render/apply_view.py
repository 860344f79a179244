"""What `odplan apply` shows while it runs, and its closing summary.

`ConsoleApplyView` implements the executor's hooks: one line per event on stderr, prefixed with
the elapsed time (plain text, so logs of CI runs read well; rich colours them only when asked,
i.e. on a terminal). `summary_text` lists what succeeded, failed (with the hint and the log
tail) and was skipped.
"""

from __future__ import annotations

import asyncio
import time
from typing import TextIO

from rich.console import Console
from rich.text import Text

from opendeploy_plan.apply.errors import ApplyError, DeploymentFailed
from opendeploy_plan.apply.scheduler import RunReport, StepOutcome, StepResult
from opendeploy_plan.plan import PlannedAction

LOG_TAIL_LINES = 30

_VERBS = {
    "create": "creating",
    "update": "updating",
    "replace": "replacing",
    "delete": "deleting",
    "bind_source": "uploading and binding",
    "deploy": "deploying",
    "rename_domain": "renaming",
    "wait": "waiting for",
}


class ConsoleApplyView:
    """Progress lines on a stream (stderr by default); colours only when `color`."""

    def __init__(self, stream: TextIO, *, color: bool = False) -> None:
        self.stream = stream
        self.color = color
        self.started = time.monotonic()
        self._last_progress: dict[str, str] = {}
        # soft_wrap: a line is never cut or padded to the terminal's width (logs stay greppable).
        self._console = Console(
            file=stream,
            force_terminal=color,
            color_system="standard" if color else None,
            no_color=not color,
            highlight=False,
            soft_wrap=True,
        )

    def _line(self, text: str, style: str = "") -> None:
        stamp = f"[{time.monotonic() - self.started:6.1f}s] "
        self._console.print(Text.assemble(stamp, (text, style) if style else text))
        self.stream.flush()

    def action_started(self, action: PlannedAction) -> None:
        verb = _VERBS.get(str(action.kind), str(action.kind))
        self._line(f"{action.address}: {verb}…")

    def action_progress(self, action: PlannedAction, message: str) -> None:
        if self._last_progress.get(action.address) == message:
            return
        self._last_progress[action.address] = message
        self._line(f"{action.address}: {message}", "dim")

    def action_finished(self, action: PlannedAction, result: StepResult) -> None:
        if result.outcome is StepOutcome.SUCCEEDED:
            self._line(f"{action.address}: done", "green")
        elif result.outcome is StepOutcome.FAILED:
            self._line(f"{action.address}: failed: {error_text(result.error)}", "red")
        elif result.outcome is StepOutcome.SKIPPED:
            self._line(f"{action.address}: skipped ({result.reason} failed)", "yellow")
        else:
            self._line(f"{action.address}: not started (interrupted)", "yellow")


def error_text(error: BaseException | None) -> str:
    """One line saying what went wrong (an ApplyError's message, a gateway error's message)."""
    if error is None:
        return "unknown error"
    if isinstance(error, asyncio.CancelledError):
        return (
            "aborted by a second interrupt (what it started may still be running on the "
            "platform: the next `odplan apply` finds it and waits for it)"
        )
    if isinstance(error, ApplyError):
        return error.message
    message = getattr(error, "message", None)
    return str(message) if message else (str(error) or type(error).__name__)


def error_hint(error: BaseException | None) -> str:
    """What to do about it, when the error carries a hint; else ""."""
    hint = getattr(error, "hint", "")
    return str(hint) if hint else ""


def summary_text(report: RunReport, verb: str = "Apply") -> str:
    """`Apply complete: …` or `Apply failed: …`, then what failed (with hints) and was skipped."""
    succeeded = report.names(StepOutcome.SUCCEEDED)
    failed = [r for r in report.results if r.outcome is StepOutcome.FAILED]
    skipped = [r for r in report.results if r.outcome is StepOutcome.SKIPPED]
    unreached = report.names(StepOutcome.NOT_STARTED)
    state = "complete" if report.ok else ("interrupted" if report.interrupted else "failed")
    head = f"{verb} {state}"
    lines = [
        f"{head}: {len(succeeded)} succeeded, {len(failed)} failed, {len(skipped)} skipped"
        + (f", {len(unreached)} not started" if unreached else "")
        + "."
    ]
    if not report.ok and succeeded:
        # After a failure, say what did happen: those changes are live and will not be redone.
        lines.append("")
        lines.append("Succeeded: " + ", ".join(succeeded))
    for result in failed:
        lines.append("")
        lines.append(f"Error: {result.name}: {error_text(result.error)}")
        if isinstance(result.error, DeploymentFailed) and result.error.log_tail:
            tail = result.error.log_tail[-LOG_TAIL_LINES:]
            lines.append(f"  last {len(tail)} log lines:")
            lines.extend(f"  | {line}" for line in tail)
        hint = error_hint(result.error)
        if hint:
            lines.append(f"  hint: {hint}")
    if skipped:
        lines.append("")
        lines.append("Skipped because something they need failed:")
        lines.extend(
            f"  - {r.name} (upstream {r.reason.removeprefix('upstream ')})" for r in skipped
        )
    if unreached:
        lines.append("")
        lines.append("Not started (interrupted): " + ", ".join(unreached))
    return "\n".join(lines) + "\n"
