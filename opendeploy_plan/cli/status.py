"""`odplan status`: the live services of a project, and whether each matches the manifest."""

from __future__ import annotations

import sys
from typing import Any

import click

from opendeploy_plan.cli.operate import ProjectFlags, project_options, run
from opendeploy_plan.cli.options import GatewayChoice, gateway_options

_SETTLED = frozenset(
    {"success", "failed", "cancelled", "rolled_back", "not deployed", "not created"}
)
_SHORT_COLUMNS = ("SERVICE", "STATUS", "DEPLOY", "URL", "CPU", "MEMORY", "REPL", "MANIFEST")
_COLUMNS = ("SERVICE", "STATUS", "DEPLOYMENT", "URL", "CPU", "MEMORY", "REPLICAS", "MANIFEST")


@click.command()
@project_options
@gateway_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(project_flags: ProjectFlags, gateway_choice: GatewayChoice, as_json: bool) -> None:
    """Show each service's latest deployment, URL, resources and replicas, and whether it is in
    sync with the manifest (the plan has no action for it) or has changes pending.

    Exit 0 when the status was shown (also with changes pending), 1 when the project cannot be
    read.
    """
    prepared = project_flags.load()
    data = run(_status(project_flags, prepared, gateway_choice))
    if as_json:
        import json

        click.echo(json.dumps(data, indent=2))
    elif sys.stdout.isatty():
        _rich(data)
    else:
        _plain(data)
    sys.exit(0)


async def _status(flags: ProjectFlags, prepared: object, choice: GatewayChoice) -> dict[str, Any]:
    import os

    from opendeploy_plan.cli.planning import PlanningFlags, is_unbound_guest, plan_once
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.gateway import connect
    from opendeploy_plan.ops.live import OpsError, choose_environment, find_project
    from opendeploy_plan.ops.status import project_pending, service_rows
    from opendeploy_plan.state.refresh import refresh

    loaded = prepared if isinstance(prepared, Prepared) else None
    settings = choice.settings()
    async with connect(settings, env=os.environ) as client:
        plan = None
        observed = None
        managed = None
        if loaded is not None and loaded.load.manifest is not None:
            manifest = loaded.load.manifest
            name, environment = manifest.project.name, loaded.load.environment
            managed = set(manifest.services)
            guest = await is_unbound_guest(client, settings.credential)
            planning = PlanningFlags(flags.manifest, flags.environment)
            await plan_once(client, loaded, planning, guest=guest, reuse_listings=True)
            plan, observed = loaded.plan, loaded.observed
            if plan is None or plan.errors:
                click.secho(
                    "warning: no plan could be made, so whether services match the manifest "
                    "is unknown (see the diagnostics above)",
                    fg="yellow",
                    err=True,
                )
                plan = None
        else:
            assert flags.project is not None
            project = await find_project(client, flags.project)
            name = project.name
            environment = flags.environment_for(None) or choose_environment(
                await client.list_services(project.id), None
            )
        if observed is None:
            observed = await refresh(client, name, environment)
    if observed.project is None:
        raise OpsError(
            f"project {name} does not exist on the gateway",
            hint="odplan plan shows what odplan apply would create.",
        )
    rows = service_rows(observed, plan, managed)
    return {
        "project": {"name": observed.project.name, "id": observed.project.id},
        "environment": environment,
        "services": [r.as_dict() for r in rows],
        "project_pending": list(project_pending(plan)),
        "unmanaged_dependencies": (
            sorted(set(observed.dependencies) - _deps(loaded)) if managed is not None else []
        ),
    }


def _deps(prepared: object) -> set[str]:
    from opendeploy_plan.engine.prepare import Prepared

    if isinstance(prepared, Prepared) and prepared.load.manifest is not None:
        return set(prepared.load.manifest.dependencies)
    return set()


def _cells(row: dict[str, Any]) -> tuple[str, ...]:
    state = row["status"]
    if state not in (
        "success",
        "failed",
        "cancelled",
        "rolled_back",
        "not deployed",
        "not created",
    ):
        state = f"{state} {row['progress']}%"
    replicas = "" if row["replicas"] is None else str(row["replicas"])
    return (
        row["name"],
        state,
        row["deployment_id"],
        row["url"],
        row["cpu"],
        row["memory"],
        replicas,
        row["sync"],
    )


def _footer(data: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for row in data["services"]:
        for item in row["pending"]:
            lines.append(f"  pending: {item}")
    for item in data["project_pending"]:
        lines.append(f"  pending: {item}")
    if any(r["pending"] for r in data["services"]) or data["project_pending"]:
        lines.append("Run odplan plan for the details.")
    return lines


def _plain(data: dict[str, Any]) -> None:
    project = data["project"]
    click.echo(f"Project {project['name']} ({project['id']}), {data['environment']}")
    rows = [_COLUMNS, *(_cells(r) for r in data["services"])]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for line in _footer(data):
        click.echo(line)


def _rich(data: dict[str, Any]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    project = data["project"]
    table = Table(
        title=f"{project['name']} ({project['id']}), {data['environment']}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for column in _SHORT_COLUMNS:
        # Only the URL may wrap; ids are shortened like git's so the rest fits a terminal.
        table.add_column(column, overflow="fold", no_wrap=column != "URL")
    colour = {"in sync": "green", "changes pending": "yellow", "unmanaged": "dim"}
    for row in data["services"]:
        cells = list(_cells(row))
        cells[2] = cells[2][:8]
        cells[3] = cells[3].removeprefix("https://")
        style = colour.get(row["sync"], "")
        cells[-1] = f"[{style}]{cells[-1]}[/]" if style else cells[-1]
        table.add_row(*cells)
    console = Console()
    console.print(table)
    for line in _footer(data):
        console.print(line, markup=False, highlight=False)
