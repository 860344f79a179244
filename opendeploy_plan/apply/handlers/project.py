"""`project`: create it (or adopt the one a lost response made), or delete it."""

from __future__ import annotations

import contextlib

from opendeploy_plan.apply.context import ApplyContext
from opendeploy_plan.apply.errors import ApplyError
from opendeploy_plan.apply.readback import expect, expect_gone
from opendeploy_plan.apply.reconcile import create_or_find
from opendeploy_plan.gateway import Conflict, NotFound
from opendeploy_plan.plan import ActionKind, PlannedAction

__all__ = ["apply"]


async def apply(ctx: ApplyContext, action: PlannedAction) -> None:
    if action.kind is ActionKind.DELETE:
        await _delete(ctx, action)
        return
    if action.kind is not ActionKind.CREATE:
        raise ApplyError(f"project: {action.kind} is not supported")
    client = ctx.client
    name = ctx.desired.project
    region = ctx.desired.region_id or (await client.active_region()).id

    async def create() -> str:
        try:
            project = await client.create_project(
                name, region_id=region, description=ctx.desired.description
            )
        except Conflict as exc:
            existing = await client.find_project_by_name(name)
            if existing is not None:
                return existing.id
            raise ApplyError(
                exc.message,
                exc.hint
                or "A guest credential may own one live project at a time: bind it to an "
                "account, or wait for the 6-hour collection of the other project.",
            ) from exc
        return project.id

    async def find() -> str | None:
        found = await client.find_project_by_name(name)
        return found.id if found else None

    ctx.project_id = await create_or_find(create, find)
    ctx.region_id = region
    read = await client.get_project(ctx.project_id)
    expect(action.address, "name", name, read.name)
    ctx.log("setup.project_create", project_id=ctx.project_id, name=name)


async def _delete(ctx: ApplyContext, action: PlannedAction) -> None:
    """Delete the project; the platform drops its services, databases and domains too."""
    project_id = ctx.require_project()
    with contextlib.suppress(NotFound):
        await ctx.client.delete_project(project_id)
    expect_gone(
        action.address, await ctx.client.find_project_by_name(ctx.desired.project) is not None
    )
    ctx.log("operate.project_delete", project_id=project_id, name=ctx.desired.project)
    ctx.project_id = None
