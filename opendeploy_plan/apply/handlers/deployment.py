"""`service.<name>.deployment`: deploy the service (once per run, found again by the run's id
in the description when a response is lost), or wait for one already in flight; then watch it
until it is terminal."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from typing import Any

from opendeploy_plan.apply.context import ApplyContext, ServiceOutcomeRecord
from opendeploy_plan.apply.errors import ApplyError, DeploymentFailed
from opendeploy_plan.apply.handlers.dependency import wait_ready
from opendeploy_plan.apply.race import in_flight_deployment
from opendeploy_plan.apply.reconcile import create_or_find
from opendeploy_plan.apply.watch import DeploymentSnapshot, watch_deployment
from opendeploy_plan.gateway import Conflict, Deployment, NotFound
from opendeploy_plan.plan import (
    ActionKind,
    PlannedAction,
    format_stamp,
    service_build_digest,
    service_config_digest,
)
from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.stamp import Stamp, parse_stamp, same_digest
from opendeploy_plan.platform import TERMINAL_DEPLOYMENT_STATUSES
from opendeploy_plan.state.model import ObservedService
from opendeploy_plan.state.refresh import secret_map
from opendeploy_plan.timestamps import timestamp_order

__all__ = ["apply"]


async def apply(ctx: ApplyContext, action: PlannedAction) -> None:
    name = addr.resource_name(action.address)
    assert name is not None, action.address
    if action.kind is ActionKind.WAIT:
        await _wait_existing(ctx, action, name)
    else:
        await _deploy(ctx, action, name)


async def _wait_existing(ctx: ApplyContext, action: PlannedAction, name: str) -> None:
    deployment_id = action.waits_for_deployment
    if not deployment_id:
        raise ApplyError(f"{action.address}: nothing to wait for")
    await _watch(ctx, action, name, deployment_id)


async def _deploy(ctx: ApplyContext, action: PlannedAction, name: str) -> None:
    client = ctx.client
    project_id = ctx.require_project()
    service_id = ctx.service_id(name)
    svc = ctx.desired.services[name]
    if action.waits_for_deployment:
        # One in flight builds the old config: let it finish (whatever its end), then deploy.
        with contextlib.suppress(DeploymentFailed):
            await _watch(ctx, action, name, action.waits_for_deployment)
    for key in svc.uses:
        if key in ctx.dependency_ids:
            await wait_ready(ctx, action, key)
    read = await client.get_service(service_id)
    env = await client.get_env(project_id, service_id)
    live = ObservedService(
        id=service_id,
        type=read.type or svc.type,
        environment=read.environment or ctx.desired.environment,
        env=secret_map(env.variables),
        build_variables=secret_map(read.build_variables),
    )
    stamp = Stamp(
        project_digest=ctx.desired.source.digest,
        service_digest=ctx.desired.service_digest(name),
        run_id=ctx.inputs.run_id,
        config_digest=service_config_digest(svc, live, ctx.dependency_env),
        build_digest=service_build_digest(svc, ctx.dependency_env, service_id),
    )
    description = format_stamp(stamp, f"odplan deploy of {name}")
    marker = f"r={ctx.inputs.run_id}]"  # the run field closes the stamp (format_stamp)
    temp_path = ctx.temp_file_path or await _previous_temp_path(ctx, name)

    async def create() -> Deployment:
        return await client.create_deployment(
            project_id,
            service_id,
            environment=ctx.desired.environment,
            temp_file_path=temp_path,
            source="git" if ctx.desired.source.kind == "git" else "zip",
            branch=ctx.desired.source.branch,
            description=description,
            dependencies=[ctx.dependency_ids[k] for k in svc.uses if k in ctx.dependency_ids],
        )

    async def find() -> Deployment | None:
        return await client.find_deployment_by_description(
            service_id, marker, project_id=project_id
        )

    racer = await _concurrent_same_change(ctx, name, service_id, project_id, stamp)
    if racer is not None:
        # An apply running at the same time deployed this very change after our refresh.
        ctx.progress(action, f"another run is deploying this change ({racer}): waiting for it")
        if await _same_change_succeeded(ctx, action, name, racer, stamp):
            return
    for _ in range(_RACE_ROUNDS):
        try:
            deployment = await create_or_find(create, find)
            break
        except Conflict as conflict:
            other = await in_flight_deployment(ctx, conflict, project_id, service_id)
            if other is None:
                raise ApplyError(
                    f"{action.address}: the gateway refused the deployment: {conflict.reason}",
                    "The platform runs one deployment per service at a time. Let the other "
                    "one finish (`odplan status`), then run `odplan apply` again.",
                ) from None
            # Another deployment of this service is in flight (an apply racing this one):
            # wait for it; when it built this very change, it is ours too.
            ctx.progress(action, f"deployment {other} is in progress: waiting for it")
            if await _same_change_succeeded(ctx, action, name, other, stamp):
                return
    else:
        raise ApplyError(
            f"{action.address}: another deployment kept starting before this one could",
            "Something else keeps deploying this service (another apply, a CI job). Let it "
            "finish, then run `odplan apply` again.",
        )
    ctx.log(
        "deploy.create",
        project_id=project_id,
        service_id=service_id,
        deployment_id=deployment.id,
        environment=ctx.desired.environment,
        run_id=ctx.inputs.run_id,
    )
    await _watch(ctx, action, name, deployment.id)


# How often a deploy that lost a race (409: one in flight) waits and tries again.
_RACE_ROUNDS = 3


async def _same_change_succeeded(
    ctx: ApplyContext, action: PlannedAction, name: str, deployment_id: str, stamp: Stamp
) -> bool:
    """Watch another run's deployment to its end: True when it succeeded building exactly the
    change this run would deploy (same source and config digests), so deploying it again
    would only repeat it; False when it failed or built something else (deploy ours)."""
    try:
        await _watch(ctx, action, name, deployment_id)
    except DeploymentFailed:
        return False
    same = _same_change(
        parse_stamp((await ctx.client.get_deployment(deployment_id)).description), stamp
    )
    if same:
        ctx.log(
            "deploy.adopted",
            service=name,
            deployment_id=deployment_id,
            reason="another run deployed the same change",
        )
    return same


def _same_change(theirs: Stamp | None, ours: Stamp) -> bool:
    """Both stamps describe one change: same source and same config (the run may differ)."""
    return (
        theirs is not None
        and same_digest(theirs.project_digest, ours.project_digest)
        and same_digest(theirs.service_digest, ours.service_digest)
        and theirs.config_digest == ours.config_digest
    )


async def _concurrent_same_change(
    ctx: ApplyContext, name: str, service_id: str, project_id: str, stamp: Stamp
) -> str | None:
    """The service's newest deployment when another run started it after this plan's refresh
    (newer than the newest the plan saw) for exactly this change, and it has not failed: a
    deploy asked for before it started is satisfied by it. Times are the gateway's own."""
    deployments = await ctx.client.list_deployments(project_id=project_id, service_id=service_id)
    if not deployments:
        return None
    newest = max(deployments, key=lambda d: timestamp_order(d.created_at))
    live = ctx.live_services.get(name)
    seen = live.latest_deployment() if live else None
    if seen is not None and (
        newest.id == seen.id or timestamp_order(newest.created_at) <= seen.created_at_sort_key()
    ):
        return None
    if newest.status in TERMINAL_DEPLOYMENT_STATUSES and newest.status != "success":
        return None
    return newest.id if _same_change(parse_stamp(newest.description), stamp) else None


async def _previous_temp_path(ctx: ApplyContext, name: str) -> str:
    """Deploying without a new upload: reuse the latest deployment's parked path (the build
    reads `project.source_path`; the platform only keeps this one as a hint)."""
    live = ctx.live_services.get(name)
    latest = live.latest_deployment() if live else None
    if latest is None:
        return "reused-project-source"
    with contextlib.suppress(NotFound):
        return (await ctx.client.get_deployment(latest.id)).temp_file_path or latest.id
    return latest.id


async def _watch(ctx: ApplyContext, action: PlannedAction, name: str, deployment_id: str) -> None:
    record = ctx.deployments.setdefault(name, ServiceOutcomeRecord())
    record.deployment_id = deployment_id
    started = time.monotonic()
    wake = asyncio.Event()
    streamer = asyncio.create_task(_stream_wakeups(ctx, action, deployment_id, wake))

    async def fetch() -> DeploymentSnapshot:
        d = await ctx.client.get_deployment(deployment_id)
        return DeploymentSnapshot(d.status, d.progress or 0, d.error_msg or d.message)

    def update(snapshot: DeploymentSnapshot) -> None:
        ctx.progress(action, f"{snapshot.status} {snapshot.progress}%")

    try:
        final = await watch_deployment(fetch, policy=ctx.poll, on_update=update, wake=wake)
    finally:
        streamer.cancel()
        with contextlib.suppress(BaseException):
            await streamer
    record.status = final.status
    elapsed = time.monotonic() - started
    ctx.log(
        "deploy.terminal",
        level="info" if final.status == "success" else "error",
        deployment_id=deployment_id,
        status=final.status,
        duration_seconds=round(elapsed, 1),
    )
    if final.status != "success":
        await _failed(ctx, name, deployment_id, final)


# After a stream closed on a deployment that was not terminal yet, wait this long before
# opening it again (each close costs one GET of the deployment).
_STREAM_REOPEN_SECONDS = 5.0


async def _stream_wakeups(
    ctx: ApplyContext, action: PlannedAction, deployment_id: str, wake: asyncio.Event
) -> None:
    """Wake the watcher when a log stream ends: the gateway closes both streams when the
    deployment is terminal, so its end is seen within a moment while polling stays at 2–5 s.

    The SSE log stream (`logs/stream`) first; if the gateway does not serve it (an error before
    or while streaming), the build-log WebSocket (`build-logs/stream`). A stream that closes
    normally wakes the watcher once and is opened again later (the watcher cancels this task
    when it sees the terminal state). When neither stream works the watcher just polls."""
    streams = [_drain_sse, _drain_build_log]
    while streams:
        try:
            await streams[0](ctx, action, deployment_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            streams.pop(0)
            continue
        wake.set()
        await asyncio.sleep(_STREAM_REOPEN_SECONDS)


async def _drain_sse(ctx: ApplyContext, action: PlannedAction, deployment_id: str) -> None:
    async for event in ctx.client.stream_deployment_logs(deployment_id):
        if event.event in ("log", "message"):
            ctx.build_log(action, _sse_message(event.data))


async def _drain_build_log(ctx: ApplyContext, action: PlannedAction, deployment_id: str) -> None:
    async for line in ctx.client.stream_build_logs(deployment_id):
        ctx.build_log(action, line.message)


def _sse_message(data: str) -> str:
    """A log event's text: its JSON `message` (or `line`), else the data as it came."""
    with contextlib.suppress(ValueError):
        payload = json.loads(data)
        if isinstance(payload, dict):
            message = payload.get("message", payload.get("line"))
            return message if isinstance(message, str) else ""
    return data


async def _failed(
    ctx: ApplyContext, name: str, deployment_id: str, final: DeploymentSnapshot
) -> None:
    lines: list[str] = []
    with contextlib.suppress(Exception):
        logs = await ctx.client.deployment_logs(deployment_id, tail=300)
        lines = [_log_line(entry) for entry in (logs.logs or [])]
    if final.status == "failed" and final.progress <= 10 and not lines:
        hint = (
            "The build failed before writing any log (progress 10): the project's source was "
            "not bound (update-source skipped, failed, or its upload expired). Run "
            "`odplan apply` again: it re-uploads and binds the source before deploying."
        )
    elif final.status == "failed":
        hint = (
            "The build or deploy failed: the log tail above is the root cause, verbatim. "
            "Fix the app (or its resources), then run `odplan apply` again."
        )
    else:
        hint = f"The deployment was {final.status}; run `odplan apply` to deploy again."
    raise DeploymentFailed(name, deployment_id, final.status, final.message, lines, hint)


def _log_line(entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, Mapping):
        # The first of the fields present, even when empty: an empty log line is a line.
        for field in ("message", "line", "msg"):
            if entry.get(field) is not None:
                return str(entry[field])
    return str(entry)
