"""The apply summary and progress lines on hand-built run reports: the head says complete,
failed or interrupted with every count, what succeeded is named only after a failure, a failed
deployment shows its last 30 log lines and its hint, skipped steps name the upstream, and
error texts fall back sensibly (no error, an error without a message)."""

from __future__ import annotations

import asyncio
import io
import re

from opendeploy_plan.apply.errors import ApplyError, DeploymentFailed
from opendeploy_plan.apply.scheduler import RunReport, StepOutcome, StepResult
from opendeploy_plan.plan import ActionKind, ActionReason, PlannedAction
from opendeploy_plan.render.apply_view import (
    LOG_TAIL_LINES,
    ConsoleApplyView,
    error_hint,
    error_text,
    summary_text,
)

OK = StepOutcome.SUCCEEDED
STAMP = re.compile(r"^\[ *\d+\.\ds\] ")


def test_a_clean_run_names_no_successes_and_no_sections() -> None:
    report = RunReport([StepResult("project", OK), StepResult("service.web", OK)])
    assert summary_text(report) == "Apply complete: 2 succeeded, 0 failed, 0 skipped.\n"


def test_a_failed_deploy_shows_successes_the_log_tail_hint_and_skips() -> None:
    tail = [f"line {i}" for i in range(40)]
    error = DeploymentFailed("web", "dep1", "failed", "Build failed", tail, "fix the build")
    report = RunReport(
        [
            StepResult("project", OK),
            StepResult("dependency.db", OK),
            StepResult("service.web.deployment", StepOutcome.FAILED, error=error),
            StepResult(
                "service.web.domain", StepOutcome.SKIPPED, reason="upstream service.web.deployment"
            ),
        ]
    )
    text = summary_text(report)
    lines = text.splitlines()
    assert lines[0] == "Apply failed: 2 succeeded, 1 failed, 1 skipped."
    assert "Succeeded: project, dependency.db" in lines
    assert "Error: service.web.deployment: deployment dep1 of web failed: Build failed" in lines
    assert f"  last {LOG_TAIL_LINES} log lines:" in lines
    assert LOG_TAIL_LINES == 30
    shown = [line for line in lines if line.startswith("  | ")]
    assert shown == [f"  | line {i}" for i in range(10, 40)]
    assert "  hint: fix the build" in lines
    assert "  - service.web.domain (upstream service.web.deployment)" in lines


def test_an_interrupted_run_counts_and_names_what_was_not_started() -> None:
    report = RunReport(
        [
            StepResult("project", OK),
            StepResult("service.a", StepOutcome.NOT_STARTED, reason="interrupted"),
            StepResult("service.b", StepOutcome.NOT_STARTED, reason="interrupted"),
        ],
        interrupted=True,
    )
    lines = summary_text(report, verb="Destroy").splitlines()
    assert lines[0] == "Destroy interrupted: 1 succeeded, 0 failed, 0 skipped, 2 not started."
    assert lines[-1] == "Not started (interrupted): service.a, service.b"
    assert "Succeeded: project" in lines


def test_error_texts_fall_back_and_hints_are_empty_when_absent() -> None:
    assert error_text(None) == "unknown error"
    assert error_text(ApplyError("it broke", "do this")) == "it broke"
    assert error_text(ValueError("plain")) == "plain"
    assert error_text(ValueError()) == "ValueError"
    assert "next `odplan apply` finds it" in error_text(asyncio.CancelledError())
    assert error_hint(ApplyError("x", "do this")) == "do this"
    assert error_hint(ApplyError("x")) == "" and error_hint(None) == ""


def test_skipped_and_interrupted_steps_say_so_in_progress_lines() -> None:
    stream = io.StringIO()
    view = ConsoleApplyView(stream)
    action = PlannedAction("service.web", ActionKind.DEPLOY, next(iter(ActionReason)))
    view.action_finished(
        action, StepResult("service.web", StepOutcome.SKIPPED, reason="upstream dependency.db")
    )
    view.action_finished(action, StepResult("service.web", StepOutcome.NOT_STARTED))
    lines = [STAMP.sub("", line) for line in stream.getvalue().splitlines()]
    assert lines == [
        "service.web: skipped (upstream dependency.db failed)",
        "service.web: not started (interrupted)",
    ]


class _Carrier(Exception):
    """An error shaped like the gateway's: a `message` apart from its str, a hint maybe None."""

    def __init__(self, message: str, hint: str | None) -> None:
        super().__init__("repr-like text")
        self.message = message
        self.hint = hint


def test_an_errors_own_message_wins_over_its_str_and_a_none_hint_is_empty() -> None:
    assert error_text(_Carrier("the message", None)) == "the message"
    assert error_text(_Carrier("", None)) == "repr-like text"
    assert error_hint(_Carrier("m", None)) == ""
