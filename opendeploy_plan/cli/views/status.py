"""The `odplan status` and `odplan deployments` views: a rich table on a terminal, aligned plain
columns when piped, or the JSON document. Chosen once by `status_view()` / `deployments_view()`.
"""

from __future__ import annotations

import json
import sys
from typing import Protocol

import click

from opendeploy_plan.ops.history import DeploymentRow
from opendeploy_plan.ops.project_status import ProjectStatus
from opendeploy_plan.ops.status import DatabaseStatus, ServiceStatus

__all__ = [
    "DeploymentsView",
    "StatusJSON",
    "StatusPlain",
    "StatusRich",
    "StatusView",
    "deployments_view",
    "status_view",
]

# A deployment in one of these states shows no progress percentage.
_SETTLED = frozenset(
    {"success", "failed", "cancelled", "rolled_back", "not deployed", "not created"}
)
_SHORT_COLUMNS = (
    "SERVICE",
    "STATUS",
    "DEPLOY",
    "SERVING",
    "URL",
    "CPU",
    "MEMORY",
    "REPL",
    "MANIFEST",
)
_COLUMNS = (
    "SERVICE",
    "STATUS",
    "DEPLOYMENT",
    "SERVING",
    "URL",
    "CPU",
    "MEMORY",
    "REPLICAS",
    "MANIFEST",
)
_DATABASE_COLUMNS = ("DATABASE", "TYPE", "STATUS", "ID", "MANIFEST")
_DEPLOYMENT_COLUMNS = ("DEPLOYMENT", "STATUS", "AGE", "SOURCE", "SERVING", "NOTE")
_SYNC_STYLE = {"in sync": "green", "changes pending": "yellow", "unmanaged": "dim"}


class StatusView(Protocol):
    def status(self, status: ProjectStatus) -> None: ...


def _cells(row: ServiceStatus) -> tuple[str, ...]:
    state = row.status if row.status in _SETTLED else f"{row.status} {row.progress}%"
    if row.simulated:
        state += " (simulated)"
    replicas = "" if row.replicas is None else str(row.replicas)
    serving = "(same)" if row.serving_id and row.serving_id == row.deployment_id else row.serving_id
    return (
        row.name,
        state,
        row.deployment_id,
        serving or "-",
        row.url,
        row.cpu,
        row.memory,
        replicas,
        row.sync,
    )


def _database_cells(row: DatabaseStatus) -> tuple[str, ...]:
    return (row.name, row.type, row.status, row.id, row.sync)


def _aligned(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def _footer(status: ProjectStatus) -> list[str]:
    lines = [
        f"  {row.name}: SIMULATED by the local gateway, nothing runs (missing {row.simulated})"
        for row in status.services
        if row.simulated
    ]
    lines += [f"  pending: {item}" for row in status.services for item in row.pending]
    lines += [f"  pending: {item}" for item in status.project_pending]
    if any(r.pending for r in status.services) or status.project_pending:
        lines.append("Run odplan plan for the details.")
    return lines


class StatusJSON:
    def status(self, status: ProjectStatus) -> None:
        click.echo(json.dumps(status.as_dict(), indent=2))


class StatusPlain:
    """Aligned columns, full ids and URLs: for pipes and logs."""

    def status(self, status: ProjectStatus) -> None:
        click.echo(f"Project {status.project_name} ({status.project_id}), {status.environment}")
        for line in _aligned([_COLUMNS, *(_cells(r) for r in status.services)]):
            click.echo(line)
        if status.databases:
            click.echo("")
            databases = [_DATABASE_COLUMNS, *(_database_cells(d) for d in status.databases)]
            for line in _aligned(databases):
                click.echo(line)
        for line in _footer(status):
            click.echo(line)


class StatusRich:
    """A table that fits a terminal: ids shortened like git's, the sync state coloured."""

    def status(self, status: ProjectStatus) -> None:
        from rich import box
        from rich.console import Console
        from rich.table import Table

        table = Table(
            title=f"{status.project_name} ({status.project_id}), {status.environment}",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            collapse_padding=True,
        )
        for column in _SHORT_COLUMNS:
            # Only the URL may wrap; ids are shortened like git's so the rest fits a terminal.
            table.add_column(column, overflow="fold", no_wrap=column != "URL")
        for row in status.services:
            cells = list(_cells(row))
            cells[2] = cells[2][:8]
            cells[3] = cells[3] if cells[3] in ("-", "(same)") else cells[3][:8]
            cells[4] = cells[4].removeprefix("https://")
            style = _SYNC_STYLE.get(row.sync, "")
            cells[-1] = f"[{style}]{cells[-1]}[/]" if style else cells[-1]
            table.add_row(*cells)
        console = Console()
        console.print(table)
        if status.databases:
            databases = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
            for column in _DATABASE_COLUMNS:
                databases.add_column(column, no_wrap=True)
            for database in status.databases:
                cells = list(_database_cells(database))
                cells[3] = cells[3][:8]
                style = _SYNC_STYLE.get(database.sync, "")
                cells[-1] = f"[{style}]{cells[-1]}[/]" if style else cells[-1]
                databases.add_row(*cells)
            console.print(databases)
        for line in _footer(status):
            console.print(line, markup=False, highlight=False)


def status_view(*, as_json: bool) -> StatusView:
    """JSON for `--json`; else rich on a terminal, plain columns when stdout is piped."""
    if as_json:
        return StatusJSON()
    return StatusRich() if sys.stdout.isatty() else StatusPlain()


class DeploymentsView(Protocol):
    def deployments(self, service: str, rows: list[DeploymentRow]) -> None: ...


def _deployment_cells(row: DeploymentRow) -> tuple[str, ...]:
    return (
        row.id,
        row.status,
        row.age,
        row.source or "(unknown)",
        "*" if row.serving else "",
        row.note,
    )


class DeploymentsPlain:
    """Aligned columns, full ids (to paste into `odplan rollback --to`)."""

    def deployments(self, service: str, rows: list[DeploymentRow]) -> None:
        if not rows:
            click.echo(f"{service} has no deployment yet", err=True)
            return
        click.echo(f"Deployments of {service}, newest first (* serves traffic)")
        for line in _aligned([_DEPLOYMENT_COLUMNS, *(_deployment_cells(r) for r in rows)]):
            click.echo(line)


class DeploymentsJSON:
    def deployments(self, service: str, rows: list[DeploymentRow]) -> None:
        document = {"service": service, "deployments": [r.as_dict() for r in rows]}
        click.echo(json.dumps(document, indent=2))


def deployments_view(*, as_json: bool) -> DeploymentsView:
    """JSON for `--json`, else aligned columns (full ids fit: a list is read to copy one)."""
    return DeploymentsJSON() if as_json else DeploymentsPlain()
