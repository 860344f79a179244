"""The `odplan status` pipeline: read the live project and, with a manifest, plan against it to
tell which services match it. Returns a `ProjectStatus` for a view to show; prints nothing."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from opendeploy_plan.engine.guest import is_unbound_guest
from opendeploy_plan.engine.prepare import Prepared, prepare
from opendeploy_plan.gateway import (
    LOCAL_BASE_URL,
    Credential,
    GatewayClient,
    GatewayError,
    is_loopback,
)
from opendeploy_plan.ops.live import OpsError, choose_environment, find_project
from opendeploy_plan.ops.preflight import require_credential
from opendeploy_plan.ops.status import (
    DatabaseStatus,
    ServiceStatus,
    database_rows,
    project_pending,
    service_rows,
    simulated_because,
)
from opendeploy_plan.plan import PlanOptions, new_salt
from opendeploy_plan.state.hints import refresh_with_hints

__all__ = ["ProjectStatus", "read_project_status"]


@dataclass(frozen=True)
class ProjectStatus:
    """What `odplan status` shows. `plan_failed`: a manifest was given but no plan could be
    made, so whether services match it is unknown."""

    project_name: str
    project_id: str
    environment: str
    services: list[ServiceStatus] = field(default_factory=list)
    project_pending: tuple[str, ...] = ()
    unmanaged_dependencies: list[str] = field(default_factory=list)
    plan_failed: bool = False
    databases: list[DatabaseStatus] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The `--json` document."""
        return {
            "project": {"name": self.project_name, "id": self.project_id},
            "environment": self.environment,
            "services": [r.as_dict() for r in self.services],
            "project_pending": list(self.project_pending),
            "unmanaged_dependencies": list(self.unmanaged_dependencies),
            "databases": [d.as_dict() for d in self.databases],
        }


async def read_project_status(
    client: GatewayClient,
    *,
    prepared: Prepared | None,
    project_ref: str | None,
    environment: str | None,
    credential: Credential | None,
    on_planned: Callable[[Prepared], None] = lambda prepared: None,
) -> ProjectStatus:
    """The status of the manifest's project (`prepared`, loaded), else of `project_ref` in
    `environment` (None: where most of its services live). `on_planned` sees the planning pass
    as soon as it is done (to show its diagnostics). Raises `OpsError` when the project does
    not exist."""
    require_credential(client)
    plan = None
    observed = None
    managed: set[str] | None = None
    dependencies: dict[str, str] = {}
    plan_failed = False
    if prepared is not None and prepared.load.manifest is not None:
        manifest = prepared.load.manifest
        name, environment = manifest.project.name, prepared.load.environment
        managed = set(manifest.services)
        dependencies = {key: dep.type for key, dep in manifest.dependencies.items()}
        guest = await is_unbound_guest(client, credential)
        options = PlanOptions(guest=guest, salt=new_salt())
        await prepare(client, prepared, options, process_env=os.environ, reuse_listings=True)
        on_planned(prepared)
        plan, observed = prepared.plan, prepared.observed
        if plan is None or plan.errors:
            plan_failed = True
            plan = None
    else:
        assert project_ref is not None
        project = await find_project(client, project_ref)
        name = project.name
        environment = environment or choose_environment(
            await client.list_services(project.id), None
        )
    if observed is None:
        # No manifest (or it did not resolve): the hint file of the current folder (or the
        # manifest's) still names the databases.
        where = prepared.load.manifest_dir if prepared is not None else Path.cwd()
        observed = await refresh_with_hints(client, where, name, environment)
    if observed.project is None:
        raise OpsError(
            f"project {name} does not exist on the gateway",
            hint="odplan plan shows what odplan apply would create.",
        )
    return ProjectStatus(
        project_name=observed.project.name,
        project_id=observed.project.id,
        environment=environment,
        services=await _mark_simulated(client, service_rows(observed, plan, managed)),
        project_pending=project_pending(plan),
        unmanaged_dependencies=(
            sorted(set(observed.dependencies) - set(dependencies)) if managed is not None else []
        ),
        plan_failed=plan_failed,
        databases=database_rows(observed, plan, dependencies if managed is not None else None),
    )


async def _mark_simulated(client: GatewayClient, rows: list[ServiceStatus]) -> list[ServiceStatus]:
    """On a local gateway (loopback, or the embedded `--gateway local`), mark the rows whose
    latest deployment was only simulated (the stack cannot run on this machine), from that
    deployment's log; a real platform is not asked (its logs never say so)."""
    host = httpx.URL(client.base_url).host
    if not is_loopback(host) and host != httpx.URL(LOCAL_BASE_URL).host:
        return rows

    async def mark(row: ServiceStatus) -> ServiceStatus:
        if not row.deployment_id:
            return row
        with contextlib.suppress(GatewayError):
            logs = await client.deployment_logs(row.deployment_id)
            messages = (str(x.get("message", "")) for x in logs.logs or [] if isinstance(x, dict))
            if missing := simulated_because(messages):
                return dataclasses.replace(row, simulated=missing)
        return row

    return list(await asyncio.gather(*(mark(row) for row in rows)))
