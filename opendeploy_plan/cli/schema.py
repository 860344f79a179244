"""`odplan schema`: print the JSON Schema of opendeploy.yaml (generated from the models)."""

from __future__ import annotations

import click


@click.command()
def schema() -> None:
    """Print the JSON Schema of opendeploy.yaml.

    Editors use it through the modeline `# yaml-language-server: $schema=<path>`; the committed
    copy lives in schemas/opendeploy.schema.json.
    """
    from opendeploy_plan.manifest.schema import manifest_json_schema_text

    click.echo(manifest_json_schema_text(), nl=False)
