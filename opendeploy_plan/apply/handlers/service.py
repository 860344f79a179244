"""`service.<name>`: create it with its settings and variables, update what the plan changed,
delete it, or replace it (delete, then create)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opendeploy_plan import platform
from opendeploy_plan.apply.context import ApplyContext
from opendeploy_plan.apply.errors import (
    ApplyError,
    DeleteCause,
    ReadBackMismatch,
    ServiceDeleteUnsupported,
)
from opendeploy_plan.apply.handlers.dependency import credentials_handed
from opendeploy_plan.apply.readback import (
    check_settings,
    expect_gone,
    expect_variables,
    unverified,
)
from opendeploy_plan.apply.reconcile import create_or_find
from opendeploy_plan.gateway import NotFound, Service
from opendeploy_plan.plan import (
    ActionKind,
    ActionReason,
    DesiredService,
    PlannedAction,
    resolve_variables,
)
from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.state.refresh import unreturned_fields

__all__ = ["apply"]


async def apply(ctx: ApplyContext, action: PlannedAction) -> None:
    name = _name(action)
    project_id = ctx.require_project()
    if action.kind in (ActionKind.DELETE, ActionKind.REPLACE):
        await _delete(ctx, action, name, project_id)
        if action.kind is ActionKind.DELETE:
            return
    svc = ctx.desired.services[name]
    if action.kind is ActionKind.UPDATE:
        await _update(ctx, action, name, svc)
        return
    runtime = resolve_variables(svc.env, svc.uses, ctx.dependency_env, {}, svc.env_policy)
    build = resolve_variables(svc.build_env, (), ctx.dependency_env, {}, svc.env_policy)
    # setup.md: a guest sends the resource defaults explicitly. Only where the manifest is
    # silent, and the planner does not compare fields the manifest leaves unset, so the next
    # plan shows no diff for them.
    defaults = platform.GUEST_SERVICE_DEFAULTS if ctx.inputs.plan.options.guest else {}
    spec: dict[str, Any] = {
        "name": name,
        "type": svc.type,
        "environment": ctx.desired.environment,
        **defaults,
        **svc.settings(),
        "dependencies": list(svc.after),
        "runtime_variables": runtime,
        "build_variables": build,
    }

    made: list[str] = []

    async def create() -> str:
        made.append((await ctx.client.create_service(project_id, spec)).service_id)
        return made[-1]

    async def find() -> str | None:
        found = await ctx.find_service(project_id, name)
        return found.id if found else None

    service_id = await create_or_find(create, find)
    ctx.service_ids[name] = service_id
    read = await ctx.client.get_service(service_id)
    check_settings(action.address, svc, read)
    env = await ctx.client.get_env(project_id, service_id)
    try:
        expect_variables(action.address, "env", runtime, env.variables)
    except ReadBackMismatch as mismatch:
        if made and made[-1] == service_id:
            raise
        # Found, not made: another apply created it a moment ago (the 409 on its name), on
        # the databases *it* made. Re-pointing it here would be a silent move of its data.
        raise ApplyError(
            f"{action.address} was just created by another apply running at the same time, "
            f"and its env differs from this run's: {mismatch.actual}; odplan left it as it is",
            "Run `odplan plan`: it shows which database the services use, names any second "
            "database of the same name and how to delete it.",
        ) from None
    if "build_variables" not in unreturned_fields(read):
        expect_variables(action.address, "build_variables", build, read.build_variables)
    credentials_handed(ctx, name)
    _note_unverified(ctx, action, read, spec)
    ctx.log(
        "setup.service_create",
        project_id=project_id,
        service_id=service_id,
        name=name,
        type=svc.type,
        runtime_var_keys=sorted(runtime),
        build_var_keys=sorted(build),
    )


def _delete_cause(action: PlannedAction) -> DeleteCause:
    """What asked for the delete, for the way out the error names."""
    if action.kind is ActionKind.REPLACE:
        return "replace"
    return "destroy" if action.reason is ActionReason.DESTROY else "prune"


async def _delete(ctx: ApplyContext, action: PlannedAction, name: str, project_id: str) -> None:
    existing = ctx.service_ids.get(name)
    if not existing:
        return
    try:
        await ctx.client.delete_service(existing)
    except NotFound:
        # `DELETE /v1/services/:id` is not in the documents: a 404 while the service is still
        # listed means the gateway has no such route, not that the service is already gone.
        if await ctx.find_service(project_id, name) is not None:
            raise ServiceDeleteUnsupported(name, why=_delete_cause(action)) from None
    expect_gone(action.address, await ctx.find_service(project_id, name) is not None)
    ctx.service_ids.pop(name, None)
    ctx.log("operate.service_delete", project_id=project_id, service=name)


async def _update(ctx: ApplyContext, action: PlannedAction, name: str, svc: DesiredService) -> None:
    """Send only the fields the plan changed, and read back only those."""
    service_id = ctx.service_id(name)
    settings = svc.settings()
    fields: dict[str, Any] = {}
    for change in action.changes:
        path = change.path
        if path.startswith("build_env."):
            live = ctx.live_services.get(name)
            live_build = dict(live.build_variables) if live else {}
            fields["build_variables"] = resolve_variables(
                svc.build_env, (), ctx.dependency_env, live_build, svc.env_policy
            )
        elif path == "dependencies":
            fields["dependencies"] = list(svc.after)
        elif path in settings:
            fields[path] = settings[path]
    if not fields:
        return
    await ctx.client.update_service(service_id, fields)
    read = await ctx.client.get_service(service_id)
    check_settings(action.address, svc, read, only=set(fields))
    _note_unverified(ctx, action, read, fields)
    if "build_variables" in fields and "build_variables" not in unreturned_fields(read):
        expect_variables(
            action.address, "build_variables", fields["build_variables"], read.build_variables
        )
    ctx.log("operate.resize", service_id=service_id, fields=sorted(fields))


def _note_unverified(
    ctx: ApplyContext, action: PlannedAction, read: Service, sent: Mapping[str, Any]
) -> None:
    """Verify only what the gateway returns; say what could not be verified (not a failure)."""
    missing = unverified(read, sent)
    if missing:
        ctx.progress(action, f"not verified (the gateway does not show it): {', '.join(missing)}")
        ctx.log("verify.unreturned", level="warning", address=action.address, fields=missing)


def _name(action: PlannedAction) -> str:
    name = addr.resource_name(action.address)
    assert name is not None, action.address
    return name
