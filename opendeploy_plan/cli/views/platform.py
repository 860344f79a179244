"""What `odplan gateway start` and `status` print about the local platform: text, or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from opendeploy_plan.engine.local_platform import STOP_COMMAND, PlatformRecord

__all__ = ["show_platform", "show_platform_status"]


def show_platform(record: PlatformRecord) -> None:
    """Where the running platform answers, and the one command that stops it."""
    click.echo(f"Local platform running (pid {record.pid}), runtime: {record.runtime}")
    click.echo(f"  API:       {record.api_url}")
    if record.router_port is not None:
        click.echo(f"  Apps:      http://<subdomain>.localhost:{record.router_port}")
    click.echo(f"  State:     {Path(record.db_path).parent}")
    click.echo("  Use it:    odplan apply --gateway local")
    click.echo(f"  Stop it:   {STOP_COMMAND}")


def show_platform_status(record: PlatformRecord | None, *, as_json: bool) -> None:
    """`odplan gateway status`: the record (never its admin token), or that none runs."""
    if as_json:
        shown = record.shown() if record is not None else {}
        click.echo(json.dumps({"running": record is not None, **shown}))
    elif record is None:
        click.echo("The local platform is not running (start it with `odplan gateway start`).")
    else:
        show_platform(record)
