"""The apply progress view: plain lines without colour, rich's colour codes only when asked."""

from __future__ import annotations

import io
import re

from opendeploy_plan.apply.errors import ApplyError
from opendeploy_plan.apply.scheduler import StepOutcome, StepResult
from opendeploy_plan.plan import ActionKind, ActionReason, PlannedAction
from opendeploy_plan.render.apply_view import ConsoleApplyView

ANSI = re.compile(r"\x1b\[[0-9;]*m")
STAMP = re.compile(r"^\[ *\d+\.\ds\] ")


def _run(color: bool) -> str:
    stream = io.StringIO()
    view = ConsoleApplyView(stream, color=color)
    action = PlannedAction("service.web", ActionKind.CREATE, next(iter(ActionReason)))
    view.action_started(action)
    view.action_progress(action, "building 40%")
    view.action_progress(action, "building 40%")  # repeated progress is shown once
    view.action_finished(action, StepResult("service.web", StepOutcome.SUCCEEDED))
    failed = StepResult("service.web", StepOutcome.FAILED, error=ApplyError("boom [red]x[/]"))
    view.action_finished(action, failed)
    return stream.getvalue()


def test_plain_lines_carry_a_stamp_and_no_escape_codes() -> None:
    text = _run(color=False)
    assert not ANSI.search(text)
    lines = [STAMP.sub("", line) for line in text.splitlines()]
    assert lines == [
        "service.web: creating…",
        "service.web: building 40%",
        "service.web: done",
        "service.web: failed: boom [red]x[/]",  # user text is never read as markup
    ]


def test_colour_comes_from_rich_only_when_asked() -> None:
    text = _run(color=True)
    assert ANSI.search(text)
    assert [STAMP.sub("", ANSI.sub("", line)) for line in text.splitlines()][2:] == [
        "service.web: done",
        "service.web: failed: boom [red]x[/]",
    ]
