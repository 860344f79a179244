"""`dependency.<key>`: a database. Create (after looking for one of the same name), delete, or
replace; then wait until it runs and keep its credentials for the services that use it."""

from __future__ import annotations

import contextlib

from opendeploy_plan.apply.context import ApplyContext
from opendeploy_plan.apply.errors import DependencyFailed, ReadBackMismatch
from opendeploy_plan.apply.polling import PollPolicy, PollTimeout, poll_until
from opendeploy_plan.apply.race import settle_dependency_race
from opendeploy_plan.apply.readback import expect, expect_gone
from opendeploy_plan.apply.reconcile import create_or_find
from opendeploy_plan.gateway import Dependency, NotFound
from opendeploy_plan.plan import ActionKind, PlannedAction
from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.state.hints import record_dependency_hint
from opendeploy_plan.state.refresh import dependency_key, secret_map

__all__ = ["READY_TIMEOUT", "apply", "wait_ready"]

READY_TIMEOUT = 15 * 60.0


async def apply(ctx: ApplyContext, action: PlannedAction) -> None:
    key = _key(action)
    project_id = ctx.require_project()
    if action.kind in (ActionKind.DELETE, ActionKind.REPLACE):
        await _delete(ctx, action, key, project_id)
        if action.kind is ActionKind.DELETE:
            return
    want = ctx.desired.dependencies[key]

    made: list[Dependency] = []

    async def create() -> Dependency:
        made.append(
            await ctx.client.create_dependency(
                project_id,
                want.type,
                environment=ctx.desired.environment,
                template_id=want.template,
                display_name=key,
                database_name=want.database_name,
                username=want.username,
            )
        )
        return made[-1]

    async def find() -> Dependency | None:
        # By name *in this environment*: staging and production each have their own `db`.
        rows = (await ctx.client.dependency_status(project_id)).dependencies
        return next(
            (d for d in rows if dependency_key(d) == key and ctx.in_environment(d.environment)),
            None,
        )

    # Databases are not unique by name on the platform: look first, so an apply running at the
    # same time (or one whose plan is a little old) does not add a second one.
    created = await create_or_find(create, find, look_first=action.kind is ActionKind.CREATE)
    if made and created.id == made[-1].id:
        # Another apply may have created one at the same time: settle it now, before any
        # service is pointed at ours.
        created = await settle_dependency_race(ctx, action, key, created)
    ctx.dependency_ids[key] = created.id
    # The documented status rows are `{id, status}`: only this answer says which key the id is.
    record_dependency_hint(
        ctx.inputs.manifest_dir, ctx.desired.project, ctx.desired.environment, key, created.id
    )
    if created.env_vars:
        ctx.dependency_env[key] = secret_map(created.env_vars)
    ctx.log(
        "setup.dependency_create",
        project_id=project_id,
        dependency_id=want.type,
        dep_id=created.id,
        environment=ctx.desired.environment,
    )
    ready = await wait_ready(ctx, action, key)
    # Verify only what the gateway returns: documented rows carry no type.
    if ready.kind or created.kind:
        expect(action.address, "type", want.type, ready.kind or created.kind)


async def _delete(ctx: ApplyContext, action: PlannedAction, key: str, project_id: str) -> None:
    existing = ctx.dependency_ids.get(key)
    if not existing:
        return
    # Every live row of this key goes: two databases with one name are one resource to the
    # manifest (the plan warned about the duplicate).
    doomed = ctx.inputs.observed.duplicate_dependencies.get(key) or (existing,)
    for dependency_id in doomed:
        with contextlib.suppress(NotFound):
            await ctx.client.delete_dependency(project_id, dependency_id)
    status = await ctx.client.dependency_status(project_id)
    expect_gone(action.address, any(d.id in doomed for d in status.dependencies))
    ctx.dependency_ids.pop(key, None)
    ctx.dependency_env.pop(key, None)
    ctx.log("operate.dependency_delete", project_id=project_id, dependency=key)


async def wait_ready(ctx: ApplyContext, action: PlannedAction, key: str) -> Dependency:
    """Poll `GET /v1/dependencies/status/:project_id` until the database is running."""
    project_id = ctx.require_project()
    dep_id = ctx.dependency_ids[key]

    async def fetch() -> Dependency:
        status = await ctx.client.dependency_status(project_id)
        row = next((d for d in status.dependencies if d.id == dep_id), None)
        if row is None:
            raise ReadBackMismatch(action.address, "existence", "present", "missing")
        if row.env_vars and key not in ctx.dependency_env:
            ctx.dependency_env[key] = secret_map(row.env_vars)
        return row

    try:
        row = await poll_until(
            fetch,
            lambda row: row.status in ("running", "failed"),
            policy=PollPolicy.fixed(ctx.dependency_poll_seconds, READY_TIMEOUT),
            key=lambda row: row.status,
            on_update=lambda row: ctx.progress(action, f"dependency {row.status}"),
        )
    except PollTimeout as exc:
        raise DependencyFailed(f"dependency.{key} is still {exc.last.status}") from None
    if row.status == "failed":
        raise DependencyFailed(
            f"dependency.{key} ({row.type}) failed to provision: "
            f"{row.message or 'no reason given'}",
            "Run `odplan apply` again: a failed database is deleted and recreated. If it fails "
            "twice in a row, the platform has an infrastructure problem.",
        )
    return row


def _key(action: PlannedAction) -> str:
    key = addr.resource_name(action.address)
    assert key is not None, action.address
    return key
