"""The `odplan apply` and `odplan destroy` views: human (the plan and the final report on
stdout, progress on stderr) and JSON (one JSON document on stdout, everything else on stderr).

The human report is a plain aligned summary on a terminal and the skill's Markdown elsewhere or
with `--format markdown` (`views.report`); progress is live on a terminal and one line per
event otherwise (`views.progress`). Chosen once by `apply_view()`; the commands never branch
on `--json` themselves.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Protocol

import click

from opendeploy_plan.apply.executor import ApplyHooks, ApplyResult, SilentHooks
from opendeploy_plan.apply.scheduler import RunReport
from opendeploy_plan.cli.views.progress import LiveProgress, PlainProgress, progress_mode
from opendeploy_plan.cli.views.report import ReportFormat, choose_format, show_report
from opendeploy_plan.engine.report import DeployReport
from opendeploy_plan.plan import Plan
from opendeploy_plan.render.apply_view import error_hint, error_text, summary_text
from opendeploy_plan.render.human import render_human, use_color

__all__ = ["ApplyHuman", "ApplyJSON", "ApplyView", "apply_view"]


class ApplyView(Protocol):
    """Everything apply and destroy show, in the order they show it."""

    def plan(self, plan: Plan) -> None: ...

    def hooks(self) -> ApplyHooks: ...

    def interrupted(self) -> None: ...

    def summary(self, report: RunReport, verb: str) -> None: ...

    def report(self, report: DeployReport, result: ApplyResult | None) -> None: ...

    def close(self) -> None: ...

    def destroyed(self, project: str, result: ApplyResult | None) -> None: ...


class _Shared:
    """What both formats show alike; the plan goes to stderr when `plan_on_stderr`."""

    plan_on_stderr = False

    def __init__(self, *, color: bool, report_format: str | None = None) -> None:
        self.color = color
        self.report_format: ReportFormat = choose_format(report_format)
        self._progress: LiveProgress | PlainProgress | None = None

    def plan(self, plan: Plan) -> None:
        click.echo(render_human(plan, color=self.color), err=self.plan_on_stderr, color=self.color)

    def interrupted(self) -> None:
        click.echo(
            "\nInterrupt: finishing the actions in flight (Ctrl-C again to abort them)…", err=True
        )

    def summary(self, report: RunReport, verb: str) -> None:
        self.close()
        click.echo("\n" + summary_text(report, verb), err=True, nl=False)

    def close(self) -> None:
        """Stop the live progress display (its last frame stays)."""
        if self._progress is not None:
            self._progress.close()


class ApplyHuman(_Shared):
    """Progress on stderr (live on a terminal); the final report on stdout."""

    def hooks(self) -> ApplyHooks:
        if progress_mode(sys.stderr) == "live":
            self._progress = LiveProgress(sys.stderr, color=self.color)
        else:
            self._progress = PlainProgress(sys.stderr, color=self.color)
        return self._progress

    def report(self, report: DeployReport, result: ApplyResult | None) -> None:
        # Also after a failure: the services that did deploy are live and have their URL.
        if report.services:
            color = self.color and use_color(sys.stdout)
            show_report(report, fmt=self.report_format, color=color)

    def destroyed(self, project: str, result: ApplyResult | None) -> None:
        """The summary on stderr said it all."""


class ApplyJSON(_Shared):
    """The plan on stderr, no progress lines; one JSON document on stdout at the end."""

    plan_on_stderr = True

    def hooks(self) -> ApplyHooks:
        return SilentHooks()

    def report(self, report: DeployReport, result: ApplyResult | None) -> None:
        payload: dict[str, Any] = report.as_dict()
        payload["actions"] = [
            {
                "address": r.name,
                "outcome": r.outcome.value,
                "reason": r.reason or (error_text(r.error) if r.error is not None else ""),
                "hint": error_hint(r.error),
            }
            for r in (result.report.results if result is not None else [])
        ]
        click.echo(json.dumps(payload, indent=2))

    def destroyed(self, project: str, result: ApplyResult | None) -> None:
        if result is None:
            click.echo(json.dumps({"destroyed": [], "project": project}))
            return
        document = {
            "project": project,
            "ok": result.report.ok,
            "actions": [
                {"address": r.name, "outcome": r.outcome.value, "reason": r.reason}
                for r in result.report.results
            ],
        }
        click.echo(json.dumps(document, indent=2))


def apply_view(*, as_json: bool, color: bool, report_format: str | None = None) -> ApplyView:
    """The view for `--json` or not; `color` for the plan, the progress and the report;
    `report_format` (`human`, `markdown`, None: human on a terminal) for the final report."""
    if as_json:
        return ApplyJSON(color=color)
    return ApplyHuman(color=color, report_format=report_format)
