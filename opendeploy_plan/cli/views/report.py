"""The final report of apply and the day-two operations, in the form that suits where it goes.

On a terminal: a plain, aligned, coloured summary whose headline says what happened (no
Markdown markup). With `--format markdown`, or when stdout is not a terminal (a CI step
summary, a file, a pipe): the skill's canonical Markdown layout (`render.deploy_report`).
`--json` is each command's JSON view, not this module.
"""

from __future__ import annotations

import sys
from typing import Literal, TextIO

import click

from opendeploy_plan.engine.report import DeployReport
from opendeploy_plan.render.deploy_report import render_markdown

__all__ = ["ReportFormat", "choose_format", "report_text", "show_report"]

ReportFormat = Literal["human", "markdown"]

_LABEL_WIDTH = 13
_STATUS_COLOURS = {"success": "green", "failed": "red", "cancelled": "yellow"}


def choose_format(requested: str | None, stream: TextIO | None = None) -> ReportFormat:
    """`requested` when given; else human on a terminal and Markdown anywhere else."""
    if requested == "human":
        return "human"
    if requested == "markdown":
        return "markdown"
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return "human" if isatty is not None and isatty() else "markdown"


def _row(label: str, value: str) -> str:
    return f"  {label:<{_LABEL_WIDTH}}{value}"


def report_text(report: DeployReport, *, color: bool) -> str:
    """The terminal summary: headline, then one aligned `label  value` row per fact."""

    def style(text: str, **kwargs: object) -> str:
        return click.style(text, **kwargs) if color else text  # type: ignore[arg-type]

    mark = "✓" if report.succeeded else "✗"
    head_colour = "green" if report.succeeded else "red"
    lines = [style(f"{mark} {report.title}", fg=head_colour, bold=True), ""]
    live = [s for s in report.services if s.url]
    if len(live) == 1:
        lines.append(_row("Live URL", style(live[0].url, bold=True)))
    project = report.project_name + (f"  ({report.project_id})" if report.project_id else "")
    lines.append(_row("Project", project))
    lines.append(_row("Environment", report.environment))
    if report.services:
        name_width = max(len(s.name) for s in report.services)
        status_width = max(len(s.status) for s in report.services)
        label = "Service" if len(report.services) == 1 else "Services"
        for index, service in enumerate(report.services):
            status = style(
                f"{service.status:<{status_width}}", fg=_STATUS_COLOURS.get(service.status)
            )
            cells = [f"{service.name:<{name_width}}", status, service.deployment_id]
            if len(live) > 1 and service.url:
                cells.append(service.url)
            lines.append(_row(label if index == 0 else "", "  ".join(cells).rstrip()))
    if report.failed_actions:
        lines.append(_row("Not done", ", ".join(report.failed_actions)))
    if report.is_bound and report.project_id:
        lines.append(_row("Dashboard", report.project_url))
    if report.log_file:
        lines.append(_row("Log file", style(report.log_file, dim=True)))
    if not report.is_bound:
        lines += [
            "",
            style("  Bind this deployment to your account", bold=True),
            "  Open the link and sign in: a guest deployment not bound within 6 hours is",
            "  collected. The token in ~/.opendeploy/auth.json keeps working afterwards.",
            _row("Bind URL", report.bind_url_with_app()),
        ]
    return "\n".join(lines) + "\n"


def show_report(report: DeployReport, *, fmt: ReportFormat, color: bool) -> None:
    """Print the report on stdout in `fmt`."""
    if fmt == "markdown":
        click.echo(render_markdown(report), nl=False)
        return
    click.echo("\n" + report_text(report, color=color), nl=False, color=color)
