"""`odplan init`: detect the project's services and write a commented opendeploy.yaml.

Exit 0 when the manifest was written; 1 when the source is refused, nothing runnable was
found, or the manifest exists and --force was not given.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from opendeploy_plan import platform

if TYPE_CHECKING:
    from opendeploy_plan.analyze import Analysis


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
    from opendeploy_plan.analyze import MANIFEST_FILENAME, analyze, dns_label, render_manifest
    from opendeploy_plan.cli.views.init import init_view

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
    view = init_view(as_json=as_json)
    analysis = analyze(path, name=name, environment=environment)
    if analysis.refusal is not None:
        view.refused(analysis)
        click.echo(f"odplan: refusing to write a manifest: {analysis.refusal}", err=True)
        raise SystemExit(1)
    if interactive is None:
        interactive = sys.stdin.isatty() and not as_json
    if interactive:
        _ask(analysis)
    text = render_manifest(analysis, environment=environment)
    target.write_text(text, encoding="utf-8")
    errors = _validate(target, environment)
    view.written(analysis, target, errors)
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
