"""What `odplan plan`, `apply` and `graph` share: the planning flags and one planning pass.

`@planning_options` adds the manifest and planning flags and hands the command a
`PlanningFlags`; `load_or_exit()` reads the manifest and `plan_once()` runs the engine's
resolve → refresh → plan pipeline, showing diagnostics on stderr.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.gateway import GatewayClient
    from opendeploy_plan.plan import PlanOptions

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class PlanningFlags:
    """The command-line choices that shape a plan."""

    manifest: Path
    environment: str | None
    target: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    redeploy: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    refresh_only: bool = False
    prune: bool = False
    allow_data_loss: bool = False

    def options(self, *, guest: bool) -> PlanOptions:
        """The planner's options for these flags, with a fresh salt."""
        from opendeploy_plan.plan import PlanOptions, new_salt

        return PlanOptions(
            target=self.target,
            exclude=self.exclude,
            redeploy=self.redeploy,
            replace=self.replace,
            refresh_only=self.refresh_only,
            prune=self.prune,
            allow_data_loss=self.allow_data_loss,
            guest=guest,
            salt=new_salt(),
        )


def manifest_options(func: F) -> F:
    """`-f/--file` and `-e/--environment`."""
    func = click.option(
        "-e",
        "--environment",
        type=click.Choice(["production", "staging"]),
        default=None,
        help="Environment to plan for (default: the manifest's, or $OD_ENVIRONMENT).",
    )(func)
    return click.option(
        "-f",
        "--file",
        "manifest",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path("opendeploy.yaml"),
        show_default=True,
        help="The manifest.",
    )(func)


def planning_options(func: F) -> F:
    """The manifest flags plus --target/--exclude/--redeploy/--replace/--prune/…"""

    @manifest_options
    @click.option(
        "--target", multiple=True, metavar="ADDR", help="Only this address (and what it needs)."
    )
    @click.option("--exclude", multiple=True, metavar="ADDR", help="Leave this address alone.")
    @click.option(
        "--redeploy", multiple=True, metavar="ADDR", help="Deploy this service even if unchanged."
    )
    @click.option("--replace", multiple=True, metavar="ADDR", help="Replace this resource.")
    @click.option("--refresh-only", is_flag=True, help="Only show drift; change nothing.")
    @click.option("--prune", is_flag=True, help="Delete live resources the manifest omits.")
    @click.option("--allow-data-loss", is_flag=True, help="Allow deleting or replacing databases.")
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        manifest: Path,
        environment: str | None,
        target: tuple[str, ...],
        exclude: tuple[str, ...],
        redeploy: tuple[str, ...],
        replace: tuple[str, ...],
        refresh_only: bool,
        prune: bool,
        allow_data_loss: bool,
        **kwargs: Any,
    ) -> Any:
        flags = PlanningFlags(
            manifest,
            environment,
            target,
            exclude,
            redeploy,
            replace,
            refresh_only,
            prune,
            allow_data_loss,
        )
        return func(*args, flags=flags, **kwargs)

    return wrapper  # type: ignore[return-value]


def load_or_exit(flags: PlanningFlags, *, check_sources: bool = True) -> Prepared:
    """Read and check the manifest before any network call; exit 1 on errors."""
    from opendeploy_plan.cli.views.common import show_diagnostics
    from opendeploy_plan.engine.prepare import load

    prepared = load(flags.manifest, flags.environment, check_sources=check_sources)
    if not prepared.load.ok:
        show_diagnostics(prepared.diagnostics)
        sys.exit(1)
    return prepared


async def plan_once(
    client: GatewayClient,
    prepared: Prepared,
    options: PlanOptions,
    *,
    destroy: bool = False,
    shows_plan: bool = False,
    reuse_listings: bool = False,
) -> Prepared:
    """Resolve, refresh and plan a loaded manifest (with `destroy`, plan deleting what it
    manages); diagnostics are shown on stderr, the caller decides the exit code. A caller whose
    view `shows_plan` with its diagnostics passes it, so they are not repeated on stderr.
    Commands that upload nothing (plan, graph) pass `reuse_listings=True` to answer unchanged
    folders from the listing cache; anything else walks the source folder afresh (and
    refreshes the cache), so what apply uploads never depends on it."""
    from opendeploy_plan.cli.views.common import show_diagnostics
    from opendeploy_plan.cli.views.progress import progress_mode, refreshing
    from opendeploy_plan.engine.prepare import prepare
    from opendeploy_plan.ops.preflight import gateway_checks, require_credential

    require_credential(client)  # before the first request: say how to get one
    with refreshing(progress_mode()):
        await prepare(
            client,
            prepared,
            options,
            process_env=os.environ,
            destroy=destroy,
            reuse_listings=reuse_listings,
        )
        if not destroy:
            await gateway_checks(client, prepared)  # what apply would meet at the gateway
    plan = prepared.plan
    show_diagnostics(
        prepared.diagnostics, skip=plan.diagnostics if shows_plan and plan is not None else ()
    )
    return prepared
