"""Redeploy, roll back and cancel one service's deployment, wait for the end, and read it back.

The choices that need no network (which stamp a redeploy carries, which deployment a rollback
returns to, which deployment is in flight) are pure functions at the top; the gateway calls
follow. Each operation writes one `operate.<verb>` audit line when it ends (ids only).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opendeploy_plan.apply.watch import DeploymentSnapshot, PollPolicy, watch_deployment
from opendeploy_plan.auditlog import AuditLog
from opendeploy_plan.engine.report import DeployReport, ServiceOutcome, https
from opendeploy_plan.gateway import (
    Conflict,
    Deployment,
    GatewayClient,
    OutcomeUnknown,
    Project,
    Service,
)
from opendeploy_plan.ops.live import OpsError, newest_first, service_deployments, service_url
from opendeploy_plan.plan import (
    Stamp,
    format_stamp,
    is_rollback,
    parse_stamp,
    same_digest,
    source_stamp,
)
from opendeploy_plan.platform import TERMINAL_DEPLOYMENT_STATUSES

OnUpdate = Callable[[DeploymentSnapshot], None]


@dataclass(frozen=True)
class Outcome:
    """How an operation ended: the deployment it started (read back after its terminal state),
    the service's URL, and for a rollback the target and the deployment it replaced."""

    verb: str
    project: Project
    service: Service
    deployment: Deployment
    url: str = ""
    target: Deployment | None = None
    replaced: Deployment | None = None

    @property
    def succeeded(self) -> bool:
        wanted = "cancelled" if self.verb == "cancel" else "success"
        return self.deployment.status == wanted

    def report(self, gateway: str, bind_url: str, log_file: str) -> DeployReport:
        """The canonical post-deploy report for this operation's deployment."""
        final = self.deployment
        return DeployReport(
            project_name=self.project.name,
            project_id=self.project.id,
            environment=self.service.environment or final.environment,
            gateway=gateway,
            services=[ServiceOutcome(self.service.name, final.status, final.id, https(self.url))],
            bind_url=bind_url,
            log_file=log_file,
        )


# --- pure choices ------------------------------------------------------------------------------


def in_flight(deployments: Sequence[Deployment]) -> Deployment | None:
    """The newest deployment that has not reached a terminal status, if any."""
    return next(
        (d for d in newest_first(deployments) if d.status not in TERMINAL_DEPLOYMENT_STATUSES),
        None,
    )


def redeploy_stamp(
    project_deployments: Sequence[Deployment], service_id: str, run_id: str
) -> Stamp | None:
    """The stamp a redeploy of the bound source carries, or None when that source is unknown.

    The planner reads the archive bound to the project from the stamp of the project's newest
    deployment, and a service's source from its deployments' stamps. A redeploy rebuilds the
    bound archive, so it keeps that `project` digest and the service digest last stamped for
    it: first from a deployment of this service built from the same archive (exact), else from
    the service's newest successful stamped deployment (its folder did not change when the
    archive was rebound without redeploying it). No `config`: the redeploy deploys the live
    variables as they are, so nothing written is left undeployed.
    """
    ordered = newest_first(project_deployments)
    # A rollback reuses an old build and binds nothing: the bound archive is the newest other.
    binders = [d for d in ordered if not is_rollback(d.description)]
    if not binders:
        return None
    bound = parse_stamp(binders[0].description)
    if bound is None:
        return None
    descriptions = {d.id: d.description for d in ordered}
    mine = [d for d in ordered if d.service_id == service_id]
    for deployment in mine:
        stamp = source_stamp(deployment.description, descriptions.get)
        if stamp is not None and same_digest(stamp.project_digest, bound.project_digest):
            return Stamp(bound.project_digest, stamp.service_digest, run_id=run_id)
    for deployment in mine:
        stamp = source_stamp(deployment.description, descriptions.get)
        if deployment.status == "success" and stamp is not None:
            return Stamp(bound.project_digest, stamp.service_digest, run_id=run_id)
    return None


def redeploy_description(service_name: str, stamp: Stamp | None, run_id: str) -> str:
    """Free text for people plus, when the source is known, the machine-readable stamp."""
    prefix = f"odplan redeploy of {service_name}"
    if stamp is None:
        return f"{prefix} (run {run_id})"
    return format_stamp(stamp, prefix)


def _rollback_of(deployment: Deployment) -> str:
    return str((deployment.model_extra or {}).get("rollback_from_id") or "")


def rollback_target(successful: Sequence[Deployment]) -> Deployment | None:
    """The previous successful deployment: the newest success older than the running one (the
    newest success), skipping the one the running deployment is itself a rollback to."""
    ordered = newest_first(successful)
    if len(ordered) < 2:
        return None
    current = ordered[0]
    skip = _rollback_of(current)
    return next((d for d in ordered[1:] if d.id != skip), None)


def new_run_id() -> str:
    """A short random id that makes this operation's deployment findable by description."""
    return secrets.token_hex(6)


# --- operations --------------------------------------------------------------------------------


async def wait_for_terminal(
    client: GatewayClient,
    deployment_id: str,
    *,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
) -> Deployment:
    """Poll until terminal (apply's watcher), then read the deployment back once more."""

    async def fetch() -> DeploymentSnapshot:
        seen = await client.get_deployment(deployment_id)
        return DeploymentSnapshot(seen.status, seen.progress or 0, seen.message or seen.error_msg)

    await watch_deployment(fetch, policy=policy, on_update=on_update)
    return await client.get_deployment(deployment_id)


def _refuse_in_flight(deployments: Sequence[Deployment], service: Service, verb: str) -> None:
    running = in_flight(deployments)
    if running is not None:
        raise OpsError(
            f"deployment {running.id} of {service.name} is {running.status}; not starting a "
            f"{verb} next to it",
            hint=f"Wait for it (odplan status) or stop it (odplan cancel {service.name}).",
        )


async def redeploy(
    client: GatewayClient,
    project: Project,
    service: Service,
    audit: AuditLog,
    *,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
) -> Outcome:
    """Deploy the service again from the project's bound source (no upload)."""
    every = newest_first(await client.list_deployments(project_id=project.id))
    mine = [d for d in every if d.service_id == service.id]
    _refuse_in_flight(mine, service, "redeploy")
    if not mine:
        raise OpsError(
            f"{service.name} has never been deployed, so there is no source to redeploy",
            hint="Deploy it first: odplan apply.",
        )
    previous = mine[0]
    # The build reads the project's bound source; the parked path is only a hint the platform
    # keeps on the row, so reuse the latest one (read in full when the list left it out).
    temp_file_path = previous.temp_file_path or (
        (await client.get_deployment(previous.id)).temp_file_path or previous.id
    )
    run_id = new_run_id()
    stamp = redeploy_stamp(every, service.id, run_id)
    description = redeploy_description(service.name, stamp, run_id)
    dependencies = (previous.model_extra or {}).get("dependencies")
    try:
        started = await client.create_deployment(
            project.id,
            service.id,
            environment=service.environment or previous.environment or "production",
            temp_file_path=temp_file_path,
            source=previous.source or "zip",
            description=description,
            dependencies=[str(d) for d in dependencies] if isinstance(dependencies, list) else None,
            branch=str((previous.model_extra or {}).get("branch") or "") or None,
        )
    except OutcomeUnknown:
        found = await client.find_deployment_by_description(
            service.id, run_id, project_id=project.id
        )
        if found is None:
            audit.error("operate.redeploy", service_id=service.id, reason="outcome_unknown")
            raise
        started = found
    except Conflict as error:
        raise OpsError(
            f"the gateway refused: {error.message}",
            hint=f"A deployment is in flight; wait for it or run odplan cancel {service.name}.",
        ) from error
    final = await wait_for_terminal(client, started.id, on_update=on_update, policy=policy)
    url = await service_url(client, service.id, service.environment or final.environment)
    _audit_end(audit, "operate.redeploy", project, service, final, stamped=stamp is not None)
    return Outcome("redeploy", project, service, final, url)


async def rollback(
    client: GatewayClient,
    project: Project,
    service: Service,
    audit: AuditLog,
    *,
    to: str | None = None,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
) -> Outcome:
    """Roll the service back to `to`, or to its previous successful deployment."""
    mine = await service_deployments(client, project.id, service.id)
    _refuse_in_flight(mine, service, "rollback")
    successful = [
        d
        for d in await client.project_deployments(project.id, status="success")
        if d.service_id == service.id
    ]
    current = newest_first(successful)[0] if successful else None
    if to is not None:
        target = next((d for d in mine if d.id == to), None)
        if target is None:
            raise OpsError(
                f"deployment {to} is not a deployment of {service.name}",
                hint=f"List them: odplan status, or GET /v1/projects/{project.id}/deployments/.",
            )
        if target.status not in ("success", "rolled_back"):
            raise OpsError(
                f"deployment {to} ended {target.status}; only a successful deployment can be "
                "rolled back to"
            )
        if current is not None and target.id == current.id:
            raise OpsError(f"deployment {to} is already the one running {service.name}")
    else:
        chosen = rollback_target(successful)
        if chosen is None:
            raise OpsError(
                f"{service.name} has no earlier successful deployment to roll back to",
                hint="Pass --to DEPLOYMENT_ID to pick one.",
            )
        target = chosen
    known = {d.id for d in mine}
    new_id = ""
    try:
        answer = await client.rollback_deployment(target.id)
        new_id = str((answer.model_extra or {}).get("id") or "")
    except OutcomeUnknown:
        audit.warn("operate.rollback", service_id=service.id, reason="outcome_unknown")
    if not new_id:
        # The answer named no deployment (or was lost): the new one is the one we did not know.
        fresh = [
            d
            for d in await service_deployments(client, project.id, service.id)
            if d.id not in known
        ]
        if not fresh:
            raise OpsError(
                f"the rollback of {service.name} to {target.id} started no deployment",
                hint="Check odplan status; retry if nothing is running.",
            )
        new_id = fresh[0].id
    final = await wait_for_terminal(client, new_id, on_update=on_update, policy=policy)
    target_now = await client.get_deployment(target.id)
    replaced = await client.get_deployment(current.id) if current is not None else None
    url = await service_url(client, service.id, service.environment or final.environment)
    _audit_end(audit, "operate.rollback", project, service, final, target_id=target.id)
    return Outcome("rollback", project, service, final, url, target_now, replaced)


async def find_in_flight(client: GatewayClient, project: Project, service: Service) -> Deployment:
    """The service's running deployment; OpsError when nothing is in flight."""
    running = in_flight(await service_deployments(client, project.id, service.id))
    if running is None:
        raise NothingToCancel(f"no deployment of {service.name} is in flight; nothing to cancel")
    return running


class NothingToCancel(OpsError):
    """`cancel` found no deployment in flight (the goal already holds)."""


async def cancel(
    client: GatewayClient,
    project: Project,
    service: Service,
    deployment: Deployment,
    audit: AuditLog,
    *,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
) -> Outcome:
    """Cancel `deployment` (found by `find_in_flight`) and wait until it stops."""
    # A 409 means it reached a terminal state first; the read-back below says which.
    with contextlib.suppress(Conflict):
        await client.cancel_deployment(deployment.id)
    final = await wait_for_terminal(client, deployment.id, on_update=on_update, policy=policy)
    url = await service_url(client, service.id, service.environment or final.environment)
    _audit_end(audit, "operate.cancel", project, service, final)
    return Outcome("cancel", project, service, final, url)


def _audit_end(
    audit: AuditLog,
    step: str,
    project: Project,
    service: Service,
    final: Deployment,
    **fields: object,
) -> None:
    wanted = "cancelled" if step == "operate.cancel" else "success"
    write = audit.info if final.status == wanted else audit.error
    write(
        step,
        project_id=project.id,
        service_id=service.id,
        service=service.name,
        deployment_id=final.id,
        status=final.status,
        **fields,
    )
