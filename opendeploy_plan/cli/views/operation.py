"""The views of the day-two operations (redeploy, rollback, cancel): progress on stderr (one
line updated in place on a terminal, a line per status change otherwise), then the final report
(a plain summary on a terminal, the skill's Markdown elsewhere) whose headline says what the
operation did, or with `--json` the report and the read-back deployments.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

import click

from opendeploy_plan.apply.watch import DeploymentSnapshot
from opendeploy_plan.cli.views.progress import progress_mode
from opendeploy_plan.cli.views.report import choose_format, show_report
from opendeploy_plan.engine.report import DeployReport, operation_headline
from opendeploy_plan.gateway import Deployment
from opendeploy_plan.ops.deployments import Outcome
from opendeploy_plan.render.human import use_color

__all__ = [
    "OperationHuman",
    "OperationJSON",
    "OperationView",
    "deployment_dict",
    "operation_view",
    "progress_printer",
]


class OperationView(Protocol):
    def finished(self, outcome: Outcome, report: DeployReport) -> None: ...


def progress_printer(label: str) -> Callable[[DeploymentSnapshot], None]:
    """An `on_update` for stderr: on a terminal one line rewritten in place
    (`web: building 40%  12.3s`), otherwise one line per status (percentages fold in)."""
    started = time.monotonic()
    last = {"status": ""}
    live = progress_mode(sys.stderr) == "live"

    def show(snapshot: DeploymentSnapshot) -> None:
        if live:
            elapsed = time.monotonic() - started
            text = f"{label}: {snapshot.status} {snapshot.progress}%  {elapsed:.1f}s"
            end = "\n" if snapshot.terminal else ""
            click.echo(f"\r\x1b[K{text}{end}", err=True, nl=False)
            return
        if snapshot.status != last["status"]:
            last["status"] = snapshot.status
            click.echo(f"{label}: {snapshot.status}", err=True)

    return show


def _deployment(deployment: Deployment | None) -> dict[str, Any] | None:
    if deployment is None:
        return None
    return {
        "id": deployment.id,
        "status": deployment.status,
        "progress": deployment.progress,
        "description": deployment.description,
        "message": deployment.message,
        "error_msg": deployment.error_msg,
        "created_at": deployment.created_at,
        "completed_at": deployment.completed_at,
    }


def deployment_dict(outcome: Outcome) -> dict[str, Any]:
    """The read-back deployment(s) for `--json`."""
    return {
        "operation": outcome.verb,
        "deployment": _deployment(outcome.deployment),
        "target": _deployment(outcome.target),
        "replaced": _deployment(outcome.replaced),
    }


def titled(outcome: Outcome, report: DeployReport) -> DeployReport:
    """The report with the operation's own headline ("Deployment cancelled", …)."""
    headline, ok = operation_headline(outcome.verb, outcome.deployment.status)
    return dataclasses.replace(report, headline=headline, ok=ok)


class OperationHuman:
    """The final report; a failed build's error and where its log is, on stderr."""

    def finished(self, outcome: Outcome, report: DeployReport) -> None:
        show_report(titled(outcome, report), fmt=choose_format(None), color=use_color(sys.stdout))
        final = outcome.deployment
        if final.error_msg and final.status == "failed":
            click.echo(f"error: {final.error_msg}", err=True)
            click.echo(
                f"hint: odplan logs {outcome.service.name} --build --tail 300 shows the build "
                "log (see the failure playbook).",
                err=True,
            )


class OperationJSON:
    def finished(self, outcome: Outcome, report: DeployReport) -> None:
        document = {**titled(outcome, report).as_dict(), **deployment_dict(outcome)}
        click.echo(json.dumps(document, indent=2))


def operation_view(*, as_json: bool) -> OperationView:
    return OperationJSON() if as_json else OperationHuman()
