"""`odplan import`: write opendeploy.yaml from a live project, so `odplan plan` shows no changes.

Variables become dependency references, literals when neither their name nor their value
looks secret, or `${{ secrets.NAME }}` references; the command prints which was chosen for
each (names only, never a value).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from opendeploy_plan.cli.operate import run
from opendeploy_plan.cli.options import GatewayChoice, connected, fail, gateway_options

if TYPE_CHECKING:
    from opendeploy_plan.ops.adopt import Adoption, LiveProject


@click.command(name="import")
@click.option(
    "--project", "project", metavar="NAME|ID", default=None, help="The project to import."
)
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("opendeploy.yaml"),
    show_default=True,
    help="Where to write the manifest ('-' for stdout).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option(
    "-e",
    "--environment",
    type=click.Choice(["production", "staging"]),
    default=None,
    help="Environment to import (default: the one most services live in).",
)
@gateway_options
def import_project(
    project: str | None,
    out: Path,
    force: bool,
    environment: str | None,
    gateway_choice: GatewayChoice,
) -> None:
    """Write a manifest that describes a live project (services, databases, domains).

    Exit 0 when written, 1 when the file exists (without --force), the project cannot be found
    or expressed as a manifest, or the gateway fails.
    """
    to_stdout = str(out) == "-"
    if not to_stdout and out.exists() and not force:
        fail(f"{out} already exists", "Pass --force to overwrite it, or -o another path.")
    if not to_stdout and not out.resolve().parent.is_dir():
        fail(
            f"cannot write {out}: the folder {out.resolve().parent} does not exist",
            f"Create it first (mkdir -p {out.resolve().parent}), or pass -o a path in an "
            "existing folder.",
        )
    text, adoption, project_id = run(_read(project, environment, gateway_choice, out))
    if to_stdout:
        click.echo(text, nl=False)
    else:
        from opendeploy_plan.fsutil import write_atomic

        # Atomic, so a failure never leaves half a manifest; a manifest is meant to be shared.
        write_atomic(out, text, mode=0o644)
        click.echo(f"Wrote {out} (project {adoption.manifest.project.name}).", err=True)
    for note in adoption.notes:
        click.secho(f"note: {note}", fg="yellow", err=True)
    manifest_dir = Path.cwd() if to_stdout else out.resolve().parent
    for name, service in adoption.manifest.services.items():
        if isinstance(service.source, str) and not (manifest_dir / service.source).is_dir():
            click.secho(
                f"note: service {name} builds from {service.source}/, which is not next to the "
                "manifest yet; put the source there before odplan plan",
                fg="yellow",
                err=True,
            )
    if adoption.literals:
        click.echo(
            "Written as literals (neither the name nor the value looks secret; make one a "
            "secret by replacing its value with ${{ secrets.NAME }}):",
            err=True,
        )
        for place in adoption.literals:
            click.echo(f"  {place}", err=True)
    if adoption.secrets:
        click.echo(
            "Made secrets; provide them (environment variables or the services' .env files) "
            "before odplan plan:",
            err=True,
        )
        why = {"name": "the name looks secret", "shape": "the value looks like a credential"}
        for need in adoption.secrets:
            click.echo(
                f"  {need.name}  ({', '.join(need.places)}; {why.get(need.reason, need.reason)})",
                err=True,
            )
    gateway_choice.audit_log().info(
        "operate.import",
        project_id=project_id,
        services=sorted(adoption.manifest.services),
        var_keys=[n.name for n in adoption.secrets],
        var_count=len(adoption.secrets),
        out="-" if to_stdout else str(out),
    )
    sys.exit(0)


async def _read(
    ref: str | None, environment: str | None, choice: GatewayChoice, out: Path
) -> tuple[str, Adoption, str]:
    from opendeploy_plan.ops.live import find_project, only_project, read_live_project

    settings = choice.settings()
    async with connected(settings) as client:
        project = await (find_project(client, ref) if ref else only_project(client))
        live = await read_live_project(client, project, environment)
    text, adoption = _render(live, out)
    return text, adoption, project.id


def _render(live: LiveProject, out: Path) -> tuple[str, Adoption]:
    """YAML text of the adopted manifest, checked by the real loader before anything is written."""
    from opendeploy_plan.analyze.emit import SCHEMA_URL
    from opendeploy_plan.manifest import dump_manifest, load_manifest_bytes
    from opendeploy_plan.ops.adopt import AdoptError, adopt

    try:
        adoption = adopt(live)
    except AdoptError as exc:
        fail(str(exc), "Fix the live project (or write the manifest by hand with odplan init).")
    text = dump_manifest(adoption.manifest, schema_url=SCHEMA_URL)
    base = Path.cwd() if str(out) == "-" else out.resolve().parent
    # Source folders are not checked here: the manifest may be written away from the code
    # (the caller notes a missing folder), and a missing folder is not a broken manifest.
    check = load_manifest_bytes(
        text.encode(), str(out), base, live.environment, check_sources=False
    )
    if not check.ok:
        problems = "; ".join(d.format() for d in check.errors[:3])
        fail(f"the imported manifest does not validate: {problems}", "Please report this bug.")
    return text, adoption
