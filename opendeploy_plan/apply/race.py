"""Racing applies: two `odplan apply` of one manifest running at once (two CI jobs, two people).

Services and projects are unique by name on the platform (the loser gets a 409 and adopts the
winner through `reconcile.create_or_find`). Databases are not: both applies can create a `db`.
Right after creating one, apply reads the list again; when it shows two of the name and ours is
the later one, and no service uses ours yet, the race is provable: ours is deleted and the
winner adopted, so both applies end on the same database. When it cannot be proven (the rows
carry no name, or ours is already in use) both are kept and `odplan plan` reports the orphan.

A deployment race is the other half: the platform allows one deployment in flight per service,
and the loser's 409 names it (`deployment_id`). `in_flight_deployment` finds that id (or the
newest unfinished deployment when the answer does not carry it) for the handler to wait on.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from opendeploy_plan.apply.context import ApplyContext
from opendeploy_plan.gateway import Conflict, Dependency, NotFound
from opendeploy_plan.plan import PlannedAction
from opendeploy_plan.platform import TERMINAL_DEPLOYMENT_STATUSES
from opendeploy_plan.state.duplicates import users_of
from opendeploy_plan.state.refresh import dependency_key
from opendeploy_plan.timestamps import timestamp_order

__all__ = ["in_flight_deployment", "settle_dependency_race"]


async def settle_dependency_race(
    ctx: ApplyContext, action: PlannedAction, key: str, ours: Dependency
) -> Dependency:
    """The database to use after creating `ours`: `ours`, or the winner of a provable race
    (then `ours` is deleted)."""
    project_id = ctx.require_project()
    listed = (await ctx.client.dependency_status(project_id)).dependencies
    rows = [d for d in listed if dependency_key(d) == key and ctx.in_environment(d.environment)]
    if len(rows) < 2 or not any(d.id == ours.id for d in rows):
        return ours
    winner = min(enumerate(rows), key=lambda pair: (_created(pair[1]), pair[0]))[1]
    if winner.id == ours.id:
        return ours  # the other apply sees the same order and deletes its own
    if await _in_use(ctx, project_id, ours, rows):
        ctx.progress(action, f"another {key!r} exists ({winner.id}); ours is in use: kept both")
        return ours
    with contextlib.suppress(NotFound):
        await ctx.client.delete_dependency(project_id, ours.id)
    ctx.progress(
        action, f"another apply created {key!r} at the same time: using {winner.id}, ours deleted"
    )
    ctx.log(
        "apply.dependency_race",
        project_id=project_id,
        dependency=key,
        kept=winner.id,
        deleted=ours.id,
    )
    return winner


def _created(row: Dependency) -> datetime:
    extra = row.model_extra or {}
    return timestamp_order(extra.get("created_at"))


async def _in_use(
    ctx: ApplyContext, project_id: str, ours: Dependency, rows: list[Dependency]
) -> bool:
    """Does any service of this environment carry a value only `ours` hands out? (Then it is
    not provably ours to delete.) A database whose variables are unknown counts as in use."""
    if not ours.env_vars:
        return True
    services = [
        s for s in await ctx.client.list_services(project_id) if ctx.in_environment(s.environment)
    ]
    envs = {s.name: (await ctx.client.get_env(project_id, s.id)).variables for s in services}
    users = users_of([(d.id, d.env_vars) for d in rows], envs)
    return ours.id in users.values()


async def in_flight_deployment(
    ctx: ApplyContext, conflict: Conflict, project_id: str, service_id: str
) -> str | None:
    """The deployment a deploy's 409 says is in flight: the answer's `deployment_id`, else the
    newest unfinished deployment of the service; None when the 409 is about something else."""
    named = conflict.details.get("deployment_id")
    if isinstance(named, str) and named:
        return named
    deployments = await ctx.client.list_deployments(project_id=project_id, service_id=service_id)
    running = [d for d in deployments if d.status not in TERMINAL_DEPLOYMENT_STATUSES]
    if not running:
        return None
    return max(running, key=lambda d: timestamp_order(d.created_at)).id
