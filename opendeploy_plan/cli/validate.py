"""`odplan validate`: check opendeploy.yaml offline and print every problem with its line:col.

Never touches the network. Exit 0 when there is no error (warnings allowed), 1 otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Sized

import click


@click.command()
@click.option(
    "-f",
    "--file",
    "file",
    default="opendeploy.yaml",
    show_default=True,
    help="The manifest to check.",
)
@click.option(
    "-e",
    "--environment",
    envvar="OD_ENVIRONMENT",
    default=None,
    help="production or staging (default: the manifest's `environment`). Env: OD_ENVIRONMENT.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the diagnostics as a JSON list.")
@click.option("--warnings-as-errors", is_flag=True, help="Exit 1 when there are warnings too.")
def validate(file: str, environment: str | None, as_json: bool, warnings_as_errors: bool) -> None:
    """Check opendeploy.yaml offline: syntax, types, references, overlays.

    Every problem is printed at once as FILE:LINE:COL: SEVERITY: PATH: MESSAGE, sorted by
    position. Platform-side limits (guest-tier caps, name clashes) are checked by `odplan plan`.
    """
    from opendeploy_plan.manifest import load_manifest

    result = load_manifest(file, environment)
    failed = bool(result.errors) or (warnings_as_errors and bool(result.warnings))
    if as_json:
        click.echo(json.dumps([d.to_json() for d in result.diagnostics], indent=2))
    else:
        for diagnostic in result.diagnostics:
            click.echo(diagnostic.format_long(), err=True)
        if result.manifest is not None:
            manifest = result.manifest
            click.echo(
                f"{file}: valid for {result.environment} "
                f"(project {manifest.project.name}, {_count(manifest.services, 'service')}, "
                f"{_count(manifest.dependencies, 'dependency', 'dependencies')}"
                + (f", {_count(result.warnings, 'warning')}" if result.warnings else "")
                + ")"
            )
        else:
            click.echo(
                f"{file}: {_count(result.errors, 'error')}"
                + (f", {_count(result.warnings, 'warning')}" if result.warnings else ""),
                err=True,
            )
    if failed:
        raise SystemExit(1)


def _count(items: Sized, singular: str, plural: str | None = None) -> str:
    number = len(items)
    return f"{number} {singular if number == 1 else plural or singular + 's'}"
