"""The `odplan init` views: a rich summary of what was detected and what needs attention, or
the analysis as JSON (with the manifest's path and its validation errors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import click

from opendeploy_plan.analyze import Analysis, ServiceAnalysis, analysis_to_dict

__all__ = ["InitHuman", "InitJSON", "InitView", "init_view"]


class InitView(Protocol):
    def refused(self, analysis: Analysis) -> None: ...

    def written(self, analysis: Analysis, target: Path, errors: list[str]) -> None: ...


class InitJSON:
    def refused(self, analysis: Analysis) -> None:
        click.echo(json.dumps(analysis_to_dict(analysis), indent=2))

    def written(self, analysis: Analysis, target: Path, errors: list[str]) -> None:
        data = analysis_to_dict(analysis)
        data["manifest"] = str(target)
        data["validation_errors"] = errors
        click.echo(json.dumps(data, indent=2))


class InitHuman:
    def refused(self, analysis: Analysis) -> None:
        """The refusal itself is said on stderr by the command."""

    def written(self, analysis: Analysis, target: Path, errors: list[str]) -> None:
        _print_summary(analysis, target, errors)


def init_view(*, as_json: bool) -> InitView:
    return InitJSON() if as_json else InitHuman()


def _port_text(service: ServiceAnalysis) -> str:
    if service.kind != "web":
        return "-"
    if service.port is not None:
        return str(service.port.port)
    if service.port_ambiguous:
        return "ambiguous: " + "/".join(str(c.port) for c in service.port_ambiguous)
    return "unknown"


def _evidence(service: ServiceAnalysis) -> str:
    files: list[str] = []
    for fact in (service.framework, service.language):
        if fact is not None:
            files.append(fact.file)
    if service.port is not None:
        files.append(service.port.file)
    return ", ".join(dict.fromkeys(files))


def _print_summary(analysis: Analysis, target: Path, errors: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)
    table = Table(title=f"odplan init: {analysis.project_name} ({analysis.layout} layout)")
    for column in ("service", "type", "language", "framework", "port", "confidence", "evidence"):
        table.add_column(column)
    for service in analysis.services:
        table.add_row(
            service.name,
            service.kind,
            service.language.value if service.language else "unknown",
            service.framework.value if service.framework else "-",
            _port_text(service),
            service.confidence,
            _evidence(service),
        )
    console.print(table)
    for dep in analysis.dependencies:
        console.print(f"dependency [bold]{dep.name}[/bold] ({dep.type}): {dep.evidence.file}")
    todo = _attention(analysis)
    if todo:
        console.print("[bold]Needs your attention:[/bold]")
        for line in todo:
            console.print(f"  - {line}", markup=False)
    if analysis.skipped_env_files:
        console.print(
            "Read key names only (values never copied) from: "
            + ", ".join(analysis.skipped_env_files),
            markup=False,
        )
    for error in errors:
        console.print(error, markup=False)
    status = "with errors" if errors else "validates"
    console.print(f"Wrote {target} ({status}). Next: odplan validate && odplan plan", markup=False)


def _attention(analysis: Analysis) -> list[str]:
    from opendeploy_plan.analyze.emit import env_treatment

    lines: list[str] = []
    for service in analysis.services:
        # What to confirm first (a port, the type, the language), then the rest.
        lines += [f"{service.name}: confirm {item}" for item in service.confirm]
        required = [v.name for v in service.env if env_treatment(analysis, service, v) == "missing"]
        if required:
            lines.append(f"{service.name}: no value for {', '.join(required)}")
        lines += [f"{service.name}: {note}" for note in service.notes]
    lines += analysis.notes
    return lines
