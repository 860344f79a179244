"""Finding what a day-two command acts on (project, service, deployments) and reading a live
project for import. Every miss is an `OpsError` with a hint, never a bare lookup failure."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from opendeploy_plan import platform
from opendeploy_plan.errors import OdplanError
from opendeploy_plan.gateway import (
    Deployment,
    GatewayClient,
    GatewayError,
    NotFound,
    Project,
    Service,
)
from opendeploy_plan.timestamps import timestamp_order

if TYPE_CHECKING:
    from opendeploy_plan.ops.adopt import LiveProject, LiveService


class OpsError(GatewayError, OdplanError):
    """A day-two command cannot find or act on what it was asked to (message + hint)."""


async def find_project(client: GatewayClient, ref: str) -> Project:
    """The project whose id or name is `ref`."""
    projects = await client.list_projects()
    for project in projects:
        if ref in (project.id, project.name):
            return project
    try:
        return await client.get_project(ref)
    except (NotFound, ValueError):
        pass
    known = ", ".join(sorted(p.name for p in projects)) or "none"
    raise OpsError(f"no project called {ref!r}", hint=f"Projects you can see: {known}.")


async def only_project(client: GatewayClient) -> Project:
    """The one project the credential can see; an error naming them when there are several."""
    projects = await client.list_projects()
    if len(projects) == 1:
        return projects[0]
    if not projects:
        raise OpsError("this credential sees no project", hint="Deploy one first (odplan apply).")
    names = ", ".join(sorted(p.name for p in projects))
    raise OpsError("more than one project; say which", hint=f"Pass --project NAME ({names}).")


def choose_environment(services: Sequence[Service], requested: str | None) -> str:
    """`requested`, else the environment most services live in (production on a tie)."""
    if requested:
        return requested
    counts = Counter(s.environment for s in services if s.environment in platform.ENVIRONMENTS)
    if not counts:
        return "production"
    best = max(counts.values())
    return "production" if counts.get("production") == best else counts.most_common(1)[0][0]


async def find_service(
    client: GatewayClient,
    project: Project,
    name: str | None,
    environment: str | None,
    *,
    manifest_services: Sequence[str] = (),
) -> Service:
    """The service `name` of `project` (in `environment` when given, else the only one).

    `name` None: the manifest's only service (`manifest_services`), else the project's only
    live service in `environment`; an error naming the choices when there are several."""
    services = await client.list_services(project.id)
    if name is None:
        name = only_service_name(services, environment, manifest_services)
    matches = [s for s in services if s.name == name or s.id == name]
    if environment is not None:
        matches = [s for s in matches if s.environment in ("", environment)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise OpsError(
            f"service {name!r} exists in more than one environment",
            hint="Pass -e production or -e staging.",
        )
    where = f" in {environment}" if environment else ""
    known = ", ".join(sorted({s.name for s in services})) or "none"
    raise OpsError(
        f"project {project.name} has no service {name!r}{where}",
        hint=f"Services: {known}.",
    )


def only_service_name(
    services: Sequence[Service], environment: str | None, manifest_services: Sequence[str]
) -> str:
    """The one service a command means when none was named: the manifest's only service, else
    the only live one (in `environment`). OpsError naming the choices otherwise."""
    if len(manifest_services) == 1:
        return manifest_services[0]
    names = sorted(set(manifest_services)) or sorted(
        {s.name for s in services if environment is None or s.environment in ("", environment)}
    )
    if len(names) == 1:
        return names[0]
    if not names:
        raise OpsError(
            f"no service to act on{' in ' + environment if environment else ''}",
            hint="Deploy one first (odplan apply).",
        )
    raise OpsError(
        "more than one service; say which",
        hint=f"Name one of: {', '.join(names)}.",
    )


def created_moment(deployment: Deployment) -> datetime:
    """`created_at` as a time (never sorted as text); an unreadable one counts as oldest."""
    return timestamp_order(deployment.created_at)


def newest_first(deployments: Sequence[Deployment]) -> list[Deployment]:
    """Deployments by creation time, newest first (ties keep the gateway's order)."""
    return sorted(deployments, key=created_moment, reverse=True)


async def service_deployments(
    client: GatewayClient, project_id: str, service_id: str
) -> list[Deployment]:
    """Every deployment of one service, newest first."""
    found = await client.list_deployments(project_id=project_id, service_id=service_id)
    return newest_first([d for d in found if d.service_id in ("", service_id)])


async def service_url(client: GatewayClient, service_id: str, environment: str) -> str:
    """The service's auto domain as an https URL, or "" when it has none yet."""
    domains = await client.list_service_domains(service_id, environment=environment, type="auto")
    return domains[0].url if domains and domains[0].domain else ""


async def read_live_project(
    client: GatewayClient, project: Project, environment: str | None
) -> LiveProject:
    """Everything import needs, read concurrently (bounded by the client's in-flight cap)."""
    # Imported here: `adopt` is import's room, and this module is on every command's start.
    from opendeploy_plan.ops.adopt import LiveProject, LiveService

    services, dependency_status, regions = await asyncio.gather(
        client.list_services(project.id),
        client.dependency_status(project.id),
        client.regions(),
    )
    chosen_env = choose_environment(services, environment)
    mine = [s for s in services if s.environment in ("", chosen_env)]
    others = sorted({s.name for s in services if s.environment not in ("", chosen_env)})

    async def detail(service: Service) -> LiveService:
        env, domains = await asyncio.gather(
            client.get_env(project.id, service.id),
            client.list_service_domains(service.id, environment=chosen_env, type="auto"),
        )
        domain = next((d for d in domains if d.type in ("", "auto")), None)
        return LiveService(service=service, env=env.variables, domain=domain)

    details = await asyncio.gather(*(detail(s) for s in mine))
    # An inactive region stays `auto`: pinning it would make every plan fail its region check.
    region = next((r for r in regions if r.id == project.region_id and r.status == "active"), None)
    return LiveProject(
        project=project,
        environment=chosen_env,
        dependencies=dependency_status.dependencies,
        services=list(details),
        region_code=(region.code or region.id) if region is not None else None,
        other_environment_services=[n for n in others if n not in {s.name for s in mine}],
    )
