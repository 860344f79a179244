"""The views of the day-two operations (redeploy, rollback, cancel): progress lines on stderr,
then the canonical Markdown report, or with `--json` the report and the read-back deployments.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

import click

from opendeploy_plan.apply.watch import DeploymentSnapshot
from opendeploy_plan.engine.report import DeployReport
from opendeploy_plan.gateway import Deployment
from opendeploy_plan.ops.deployments import Outcome
from opendeploy_plan.render.deploy_report import render_markdown

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
    """An `on_update` that prints `web: building 40%` lines on stderr."""

    def show(snapshot: DeploymentSnapshot) -> None:
        click.echo(f"{label}: {snapshot.status} {snapshot.progress}%", err=True)

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


class OperationHuman:
    """The Markdown report; a failed build's error and where its log is, on stderr."""

    def finished(self, outcome: Outcome, report: DeployReport) -> None:
        click.echo(render_markdown(report), nl=False)
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
        click.echo(json.dumps({**report.as_dict(), **deployment_dict(outcome)}, indent=2))


def operation_view(*, as_json: bool) -> OperationView:
    return OperationJSON() if as_json else OperationHuman()
