"""`odplan validate`: check opendeploy.yaml offline and print every problem with its line:col.

Never touches the network. Exit 0 when there is no error (warnings allowed), 1 otherwise.
"""

from __future__ import annotations

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
    from opendeploy_plan.cli.views.validate import validate_view
    from opendeploy_plan.manifest import load_manifest

    result = load_manifest(file, environment)
    validate_view(as_json=as_json).result(file, result)
    if result.errors or (warnings_as_errors and result.warnings):
        raise SystemExit(1)
