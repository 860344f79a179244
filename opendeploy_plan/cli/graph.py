"""`odplan graph`: print the action graph of the plan as Graphviz dot or Mermaid text.

The same planning pass as `odplan plan` (same flags, same refresh), rendered as a graph: one
node per action, an edge `a -> b` when `b` needs `a`. Pipe it to `dot -Tsvg` or paste it into a
Markdown ```mermaid block.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import click

from opendeploy_plan.cli.options import GatewayChoice, connected, gateway_errors, gateway_options
from opendeploy_plan.cli.planning import (
    PlanningFlags,
    load_or_exit,
    plan_once,
    planning_options,
)

if TYPE_CHECKING:
    from opendeploy_plan.engine.prepare import Prepared


@click.command()
@planning_options
@gateway_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["dot", "mermaid"]),
    default="dot",
    show_default=True,
    help="Graphviz dot or Mermaid flowchart.",
)
def graph(flags: PlanningFlags, gateway_choice: GatewayChoice, output_format: str) -> None:
    """Plan like `odplan plan` and print the actions as a dependency graph.

    Exit 0 when the graph was printed (also for an empty plan), 1 on errors.
    """
    prepared = load_or_exit(flags)
    with gateway_errors():
        code = asyncio.run(_graph(prepared, flags, gateway_choice, output_format))
    sys.exit(code)


async def _graph(
    prepared: Prepared, flags: PlanningFlags, choice: GatewayChoice, output_format: str
) -> int:
    from opendeploy_plan.engine.guest import is_unbound_guest
    from opendeploy_plan.render import render_dot, render_mermaid

    settings = choice.settings()
    async with connected(settings) as client:
        guest = await is_unbound_guest(client, settings.credential)
        await plan_once(client, prepared, flags.options(guest=guest), reuse_listings=True)
    result = prepared.plan
    if result is None:
        return 1
    text = render_mermaid(result) if output_format == "mermaid" else render_dot(result)
    click.echo(text, nl=False)
    if not result.actions:
        click.echo("No changes: the graph is empty.", err=True)
    return 1 if result.errors else 0
