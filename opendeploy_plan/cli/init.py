"""`odplan init`: detect the project's services and write a commented opendeploy.yaml.

Exit 0 when the manifest was written; 1 when the source is refused (mining markers, or no
language or Dockerfile at all), or the manifest exists and --force was not given. What could
not be told is marked `# TODO confirm` and, on a terminal, asked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from opendeploy_plan import platform

if TYPE_CHECKING:
    from opendeploy_plan.analyze import Analysis, ServiceAnalysis


@click.command()
@click.argument(
    "path",
    default=".",
    type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path),
)
@click.option("--name", default=None, help="Project name (default: the folder's name).")
@click.option("--force", is_flag=True, help="Overwrite an existing opendeploy.yaml.")
@click.option("--json", "as_json", is_flag=True, help="Print the analysis as JSON.")
@click.option(
    "-e",
    "--environment",
    type=click.Choice(platform.ENVIRONMENTS),
    default=None,
    help="Write `environment:` into the manifest and read .env.<ENV> key names.",
)
@click.option(
    "--interactive/--no-interactive",
    default=None,
    help="Ask for what detection could not tell (a port, worker or web). "
    "Default: ask when stdin is a terminal and --json is not given.",
)
def init(
    path: Path,
    name: str | None,
    force: bool,
    as_json: bool,
    environment: str | None,
    interactive: bool | None,
) -> None:
    """Detect the project in PATH and write PATH/opendeploy.yaml.

    Every detected value is commented with the file it came from. What cannot be told (an
    ambiguous port, a variable without a value) is left as a TODO comment, never guessed.
    Real .env files are read for key names only; their values never reach the manifest.
    """
    from opendeploy_plan.analyze import (
        MANIFEST_FILENAME,
        analysis_to_dict,
        analyze,
        dns_label,
        render_manifest,
    )

    target = path / MANIFEST_FILENAME
    if target.exists() and not force:
        raise click.ClickException(
            f"{target} already exists; pass --force to overwrite it "
            "(or edit it and run `odplan validate`)"
        )
    if name is not None and not platform.is_dns_label(name):
        fixed = dns_label(name, fallback="")
        if not fixed:
            raise click.BadParameter(
                f"{name!r} cannot be made into a DNS label", param_hint="--name"
            )
        click.echo(f"odplan: project name {name!r} written as {fixed!r} (a DNS label)", err=True)
        name = fixed
    analysis = analyze(path, name=name, environment=environment)
    if analysis.refusal is not None:
        if as_json:
            click.echo(json.dumps(analysis_to_dict(analysis), indent=2))
        click.echo(f"odplan: refusing to write a manifest: {analysis.refusal}", err=True)
        raise SystemExit(1)
    if interactive is None:
        interactive = sys.stdin.isatty() and not as_json
    if interactive:
        _ask(analysis)
    text = render_manifest(analysis, environment=environment)
    target.write_text(text, encoding="utf-8")
    errors = _validate(target, environment)
    if as_json:
        data = analysis_to_dict(analysis)
        data["manifest"] = str(target)
        data["validation_errors"] = errors
        click.echo(json.dumps(data, indent=2))
    else:
        _print_summary(analysis, target, errors)
    if errors:
        raise SystemExit(1)


def _ask(analysis: Analysis) -> None:
    """Ask each open question on the terminal; an empty answer keeps the TODO."""
    from opendeploy_plan.analyze import apply_answer, questions

    for question in questions(analysis):
        while True:
            answer = click.prompt(question.prompt, default="", show_default=False, err=True)
            try:
                apply_answer(analysis, question, answer)
            except ValueError as error:
                click.echo(f"odplan: {error}", err=True)
                continue
            break


def _validate(target: Path, environment: str | None) -> list[str]:
    from opendeploy_plan.manifest import load_manifest

    result = load_manifest(target, environment)
    return [d.format_long() for d in result.diagnostics if d.severity == "error"]


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
