"""The `odplan status` views: a rich table on a terminal, aligned plain columns when piped,
or the JSON document. Chosen once by `status_view()`."""

from __future__ import annotations

import json
import sys
from typing import Protocol

import click

from opendeploy_plan.ops.project_status import ProjectStatus
from opendeploy_plan.ops.status import ServiceStatus

__all__ = ["StatusJSON", "StatusPlain", "StatusRich", "StatusView", "status_view"]

# A deployment in one of these states shows no progress percentage.
_SETTLED = frozenset(
    {"success", "failed", "cancelled", "rolled_back", "not deployed", "not created"}
)
_SHORT_COLUMNS = ("SERVICE", "STATUS", "DEPLOY", "URL", "CPU", "MEMORY", "REPL", "MANIFEST")
_COLUMNS = ("SERVICE", "STATUS", "DEPLOYMENT", "URL", "CPU", "MEMORY", "REPLICAS", "MANIFEST")
_SYNC_STYLE = {"in sync": "green", "changes pending": "yellow", "unmanaged": "dim"}


class StatusView(Protocol):
    def status(self, status: ProjectStatus) -> None: ...


def _cells(row: ServiceStatus) -> tuple[str, ...]:
    state = row.status if row.status in _SETTLED else f"{row.status} {row.progress}%"
    if row.simulated:
        state += " (simulated)"
    replicas = "" if row.replicas is None else str(row.replicas)
    return (row.name, state, row.deployment_id, row.url, row.cpu, row.memory, replicas, row.sync)


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
        rows = [_COLUMNS, *(_cells(r) for r in status.services)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
        for row in rows:
            cells = zip(row, widths, strict=True)
            click.echo("  ".join(cell.ljust(w) for cell, w in cells).rstrip())
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
            cells[3] = cells[3].removeprefix("https://")
            style = _SYNC_STYLE.get(row.sync, "")
            cells[-1] = f"[{style}]{cells[-1]}[/]" if style else cells[-1]
            table.add_row(*cells)
        console = Console()
        console.print(table)
        for line in _footer(status):
            console.print(line, markup=False, highlight=False)


def status_view(*, as_json: bool) -> StatusView:
    """JSON for `--json`; else rich on a terminal, plain columns when stdout is piped."""
    if as_json:
        return StatusJSON()
    return StatusRich() if sys.stdout.isatty() else StatusPlain()
