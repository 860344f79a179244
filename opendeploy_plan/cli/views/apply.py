"""The `odplan apply` and `odplan destroy` views: human (the plan and the Markdown report on
stdout, progress on stderr) and JSON (one JSON document on stdout, everything else on stderr).

Chosen once by `apply_view()`; the commands never branch on `--json` themselves.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Protocol

import click

from opendeploy_plan.apply.executor import ApplyHooks, ApplyResult, SilentHooks
from opendeploy_plan.apply.scheduler import RunReport
from opendeploy_plan.engine.report import DeployReport
from opendeploy_plan.plan import Plan
from opendeploy_plan.render.apply_view import (
    ConsoleApplyView,
    error_hint,
    error_text,
    summary_text,
)
from opendeploy_plan.render.deploy_report import render_markdown
from opendeploy_plan.render.human import render_human

__all__ = ["ApplyHuman", "ApplyJSON", "ApplyView", "apply_view"]


class ApplyView(Protocol):
    """Everything apply and destroy show, in the order they show it."""

    def plan(self, plan: Plan) -> None: ...

    def hooks(self) -> ApplyHooks: ...

    def interrupted(self) -> None: ...

    def summary(self, report: RunReport, verb: str) -> None: ...

    def report(self, report: DeployReport, result: ApplyResult | None) -> None: ...

    def destroyed(self, project: str, result: ApplyResult | None) -> None: ...


class _Shared:
    """What both formats show alike; the plan goes to stderr when `plan_on_stderr`."""

    plan_on_stderr = False

    def __init__(self, *, color: bool) -> None:
        self.color = color

    def plan(self, plan: Plan) -> None:
        click.echo(render_human(plan, color=self.color), err=self.plan_on_stderr, color=self.color)

    def interrupted(self) -> None:
        click.echo(
            "\nInterrupt: finishing the actions in flight (Ctrl-C again to abort them)…", err=True
        )

    def summary(self, report: RunReport, verb: str) -> None:
        click.echo("\n" + summary_text(report, verb), err=True, nl=False)


class ApplyHuman(_Shared):
    """Progress lines on stderr; the canonical Markdown report on stdout."""

    def hooks(self) -> ApplyHooks:
        return ConsoleApplyView(sys.stderr, color=self.color)

    def report(self, report: DeployReport, result: ApplyResult | None) -> None:
        # Also after a failure: the services that did deploy are live and have their URL.
        if report.services:
            click.echo(render_markdown(report))

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


def apply_view(*, as_json: bool, color: bool) -> ApplyView:
    """The view for `--json` or not; `color` for the plan and the progress lines."""
    return ApplyJSON(color=color) if as_json else ApplyHuman(color=color)
