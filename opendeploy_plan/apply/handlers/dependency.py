"""`dependency.<key>`: a database. Create (after looking for one of the same name), delete, or
replace; then wait until it runs and keep its credentials for the services that use it.

Creates run one at a time, each recorded before it is sent (`state.hints`): when the gateway's
rows carry no name, the row a lost answer left is the one that was not listed before; its
credentials cannot be read, so it is deleted and created again before anyone uses it."""

from __future__ import annotations

import asyncio
import contextlib
import weakref

from opendeploy_plan.apply.context import ApplyContext
from opendeploy_plan.apply.errors import DependencyFailed, ReadBackMismatch
from opendeploy_plan.apply.polling import PollPolicy, PollTimeout, poll_until
from opendeploy_plan.apply.race import settle_dependency_race
from opendeploy_plan.apply.readback import expect, expect_gone
from opendeploy_plan.apply.reconcile import CREATE_ATTEMPTS, create_or_find
from opendeploy_plan.errors import OdplanError
from opendeploy_plan.gateway import Conflict, Dependency, GatewayError, NotFound, OutcomeUnknown
from opendeploy_plan.plan import ActionKind, PlannedAction
from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.state.hints import (
    HINT_FILE,
    clear_create_intent,
    read_dependency_hints,
    read_pending_creates,
    record_create_intent,
    record_created,
    record_dependency_hint,
    record_handed,
)
from opendeploy_plan.state.refresh import dependency_key, is_named, secret_map, unattributed

__all__ = ["READY_TIMEOUT", "apply", "credentials_handed", "wait_ready"]

READY_TIMEOUT = 15 * 60.0


async def apply(ctx: ApplyContext, action: PlannedAction) -> None:
    key = _key(action)
    project_id = ctx.require_project()
    if action.kind in (ActionKind.DELETE, ActionKind.REPLACE):
        await _delete(ctx, action, key, project_id)
        if action.kind is ActionKind.DELETE:
            return
    # One dependency create at a time: when the rows carry no name, a row that appears after a
    # lost answer is ours only if no other create was in flight (`state.hints`).
    async with _create_lock():
        created = await _create(ctx, action, key, project_id)
        ctx.dependency_ids[key] = created.id
        # The documented status rows are `{id, status}`: only the create answer (or the intent
        # written before it) says which key the id is.
        place = (ctx.inputs.manifest_dir, ctx.desired.project, ctx.desired.environment)
        # Credentials held only in this run's memory (the documented gateway shows them in
        # this answer alone) stay "created, not handed" until a service holds them.
        held_here = bool(created.env_vars) and any(
            key in svc.variables_from() for svc in ctx.desired.services.values()
        )
        recorded = (
            record_created(*place, key, ctx.desired.dependencies[key].type, created.id)
            if held_here
            else record_dependency_hint(*place, key, created.id)
        )
        if not recorded and key in read_pending_creates(*place):
            # The intent is on disk but the id is not: the next run would take this database
            # for a lost create nobody uses and delete it. Stop before any service gets it.
            raise DependencyFailed(
                f"dependency.{key} was created ({created.id}) but {HINT_FILE} cannot be written",
                f"Make {HINT_FILE} writable and run `odplan apply` again.",
            )
    if created.env_vars:
        ctx.dependency_env[key] = secret_map(created.env_vars)
    want = ctx.desired.dependencies[key]
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


def credentials_handed(ctx: ApplyContext, service: str) -> None:
    """`service` now holds (read back) the variables of the databases it uses: those created
    by this run are no longer only in its memory (`state.hints.record_handed`)."""
    place = (ctx.inputs.manifest_dir, ctx.desired.project, ctx.desired.environment)
    record_handed(*place, ctx.desired.services[service].variables_from())


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
            policy=PollPolicy.ramp(ctx.dependency_poll_seconds, READY_TIMEOUT),
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


def _create_lock() -> asyncio.Lock:
    """The run's dependency-create lock (one per event loop: one apply runs in one loop)."""
    loop = asyncio.get_running_loop()
    lock = _CREATE_LOCKS.get(loop)
    if lock is None:
        lock = _CREATE_LOCKS[loop] = asyncio.Lock()
    return lock


_CREATE_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


async def _create(
    ctx: ApplyContext, action: PlannedAction, key: str, project_id: str
) -> Dependency:
    """Create `key`'s database, or adopt the one a lost answer made. Never a second one."""
    want = ctx.desired.dependencies[key]
    place = (ctx.inputs.manifest_dir, ctx.desired.project, ctx.desired.environment)
    listed = await _drop_unhanded(ctx, action, key, project_id, await _rows(ctx, project_id))
    if action.kind is ActionKind.CREATE:
        # Databases are not unique by name on the platform: look first, so an apply running at
        # the same time (or one whose plan is a little old) does not add a second one.
        found = next((d for d in listed if dependency_key(d) == key), None)
        if found is not None:
            return found
    await _drop_lost_create(ctx, action, key, project_id, listed)
    # The ids listed before the create: a lost answer's row is the one that was not there.
    known = {d.id for d in listed}
    made: list[Dependency] = []

    async def create() -> Dependency:
        if not record_create_intent(*place, key, want.type):
            ctx.progress(action, f"cannot write {HINT_FILE}: a lost answer cannot be named")
        try:
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
        except (OutcomeUnknown, Conflict):
            raise
        except GatewayError:
            clear_create_intent(*place, key)  # refused: it made nothing
            raise
        return made[-1]

    async def find() -> Dependency | None:
        rows = await _rows(ctx, project_id)
        named = next((d for d in rows if dependency_key(d) == key), None)
        if named is not None:
            return named
        # No name to go by: a row that was not there before the create is ours (creates run
        # one at a time); two new ones cannot be told apart.
        new = [d for d in rows if d.id not in known and not is_named(d)]
        if len(new) > 1:
            raise _stop(unattributed(project_id, [d.id for d in new], [key]))
        return new[0] if new else None

    for _ in range(CREATE_ATTEMPTS):
        created = await create_or_find(create, find, look_first=False)
        if made and created.id == made[-1].id:
            # Another apply may have created one at the same time: settle it now, before any
            # service is pointed at ours.
            return await settle_dependency_race(ctx, action, key, created)
        if created.env_vars or is_named(created):
            return created
        # Adopted after a lost answer, and its variables cannot be read (the documented rows
        # carry none): nobody has them yet, so delete it and create it again.
        await _delete_unread(ctx, action, key, project_id, created.id)
        known.add(created.id)
    raise DependencyFailed(
        f"dependency.{key}: every create's answer was lost ({CREATE_ATTEMPTS} tries)",
        "Check the network to the gateway and run `odplan apply` again.",
    )


async def _rows(ctx: ApplyContext, project_id: str) -> list[Dependency]:
    """This environment's dependency rows, with their hinted keys (none for unknown ids)."""
    rows = (await ctx.client.dependency_status(project_id)).dependencies
    hints = read_dependency_hints(
        ctx.inputs.manifest_dir, ctx.desired.project, ctx.desired.environment
    )
    return [
        d.model_copy(update={"display_name": hints[d.id]})
        if not is_named(d) and d.id in hints
        else d
        for d in rows
        if ctx.in_environment(d.environment)
    ]


async def _drop_lost_create(
    ctx: ApplyContext, action: PlannedAction, key: str, project_id: str, rows: list[Dependency]
) -> None:
    """A previous run's create of `key` whose answer never came (its intent is still pending)
    left one unnamed row: refresh left it out because its variables cannot be read. Delete it
    before creating again, so there is no second database."""
    pending = read_pending_creates(
        ctx.inputs.manifest_dir, ctx.desired.project, ctx.desired.environment
    )
    if key not in pending or pending[key].id is not None:
        return
    ours = set(ctx.dependency_ids.values())
    unknown = [d for d in rows if not is_named(d) and d.id not in ours]
    if len(unknown) > 1:
        raise _stop(unattributed(project_id, [d.id for d in unknown], [key]))
    if unknown and not unknown[0].env_vars:
        await _delete_unread(ctx, action, key, project_id, unknown[0].id)


async def _drop_unhanded(
    ctx: ApplyContext, action: PlannedAction, key: str, project_id: str, rows: list[Dependency]
) -> list[Dependency]:
    """A previous run created `key`'s database and died before any service got its
    credentials: refresh left it out when they cannot be read. Delete it before creating
    again (nobody can have used it); `rows` without it."""
    intent = read_pending_creates(
        ctx.inputs.manifest_dir, ctx.desired.project, ctx.desired.environment
    ).get(key)
    if intent is None or intent.id is None:
        return rows
    row = next((d for d in rows if d.id == intent.id), None)
    if row is None or row.env_vars:
        return rows
    why = "an earlier run stopped before any service got the credentials of"
    await _delete_unread(ctx, action, key, project_id, row.id, why)
    return [d for d in rows if d.id != row.id]


async def _delete_unread(
    ctx: ApplyContext,
    action: PlannedAction,
    key: str,
    project_id: str,
    dependency_id: str,
    why: str = "a create whose answer was lost left",
) -> None:
    with contextlib.suppress(NotFound):
        await ctx.client.delete_dependency(project_id, dependency_id)
    ctx.progress(
        action,
        f"{why} {dependency_id}; its credentials cannot be read: deleted, creating again",
    )
    ctx.log(
        "apply.dependency_lost_create", project_id=project_id, dependency=key, deleted=dependency_id
    )


def _stop(error: OdplanError) -> DependencyFailed:
    return DependencyFailed(error.message, error.hint)


def _key(action: PlannedAction) -> str:
    key = addr.resource_name(action.address)
    assert key is not None, action.address
    return key
