"""Refresh: read the live state of one project through the gateway, concurrently.

Reads come in three dependent levels: the project list (find the project by name); then the
project's services and dependencies; then, per service, its runtime env, auto domains and
deployments. Requests within a level run at once, bounded by the client's in-flight cap:
3 + 3 per service requests in all (the issue's budget is 3 + 4 per service).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import SecretStr

from opendeploy_plan.errors import OdplanError
from opendeploy_plan.gateway import Dependency, Deployment, GatewayClient, Service, ServiceDomain
from opendeploy_plan.source import SourceError, normalize_subpath
from opendeploy_plan.state.duplicates import choose
from opendeploy_plan.state.hints import HINT_FILE
from opendeploy_plan.state.model import (
    ObservedDependency,
    ObservedDeployment,
    ObservedDomain,
    ObservedProject,
    ObservedService,
    ObservedState,
    timestamp_order,
)

__all__ = [
    "DEPLOYMENT_HISTORY",
    "UnattributedDependencies",
    "dependency_key",
    "in_environment",
    "is_named",
    "newest_deployments",
    "normal_source_path",
    "refresh",
    "secret_map",
    "unattributed",
    "unreturned_fields",
]

# How many of a service's most recent deployments the planner sees.
DEPLOYMENT_HISTORY = 10

_SETTING_FIELDS = (
    "language",
    "framework",
    "build_command",
    "dockerfile",
    "dockerfile_path",
    "build_context",
    "health_check_path",
    "readiness_path",
    "cpu_request",
    "cpu_limit",
    "memory_request",
    "memory_limit",
)


class UnattributedDependencies(OdplanError):
    """Live databases whose rows do not say which manifest key they are, more than one way."""


async def refresh(
    client: GatewayClient,
    project_name: str,
    environment: str,
    *,
    dependency_hints: Mapping[str, str] | None = None,
    wanted_dependencies: Collection[str] = (),
    pending_dependencies: Collection[str] = (),
    unhanded_dependencies: Mapping[str, str] | None = None,
    recreate_unhanded: bool = False,
) -> ObservedState:
    """The live state of the project called `project_name`, seen from `environment`.

    `dependency_hints` (`{id: key}`, from `state.hints`) names the rows that carry no name (the
    documented status rows are `{id, status}`); `wanted_dependencies` (the manifest's keys)
    lets one unnamed row be adopted by elimination; `pending_dependencies` (the keys whose
    create answer was never recorded, `state.hints.read_pending_creates`) names the one unnamed
    row such a create left; `unhanded_dependencies` (`{id: key}`, `state.hints.
    unhanded_dependencies`) names the databases created whose credentials no service got;
    with `recreate_unhanded` (planning an apply) those whose credentials cannot be read are left
    out, so that apply creates them again."""
    project = await client.find_project_by_name(project_name)
    if project is None:
        return ObservedState.empty()
    services, dependency_status = await asyncio.gather(
        client.list_services(project.id), client.dependency_status(project.id)
    )
    chosen = _ours(services, environment)
    rows = _attribute(
        dependency_status.dependencies,
        environment,
        dependency_hints or {},
        wanted_dependencies,
        pending_dependencies,
        project_id=project.id,
        unhanded=unhanded_dependencies or {},
        recreate_unhanded=recreate_unhanded,
    )
    details = await asyncio.gather(
        *(_service_detail(client, project.id, s, environment) for s in chosen.values())
    )
    services_env = {
        name: {k: v.get_secret_value() for k, v in detail.env.items()}
        for name, detail in zip(chosen, details, strict=True)
    }
    databases, duplicates, strays = _databases(rows, environment, services_env)
    return ObservedState(
        project=ObservedProject(
            id=project.id,
            name=project.name,
            region_id=project.region_id or None,
            description=project.description or None,
            has_source=bool(project.source_path),
            other_environment_rows=tuple(
                sorted(
                    [
                        f"service.{s.name} ({s.environment})"
                        for s in services
                        if not in_environment(s.environment, environment)
                    ]
                    + [
                        f"dependency.{dependency_key(d)} ({d.environment})"
                        for d in dependency_status.dependencies
                        if not in_environment(d.environment, environment)
                    ]
                )
            ),
        ),
        dependencies={
            key: ObservedDependency(
                id=dep.id,
                type=dep.type or dep.dependency_id,
                status=dep.status or "running",
                display_name=dep.display_name or None,
                name=dep.name or None,
                environment=dep.environment or None,
                env_vars=secret_map(dep.env_vars),
            )
            for key, dep in databases.items()
        },
        services=dict(zip(chosen, details, strict=True)),
        duplicate_dependencies=duplicates,
        dependency_strays=strays,
    )


def _databases(
    rows: list[Dependency], environment: str, services_env: Mapping[str, Mapping[str, str]]
) -> tuple[dict[str, Dependency], dict[str, tuple[str, ...]], dict[str, dict[str, str]]]:
    """This environment's databases by key; for keys held by more than one row, every id (the
    managed one first) and the services that use another row than the managed one.

    Of two rows with one name (two applies at once), odplan manages the one the services'
    injected env points at (`duplicates.choose`), never just the first listed: adopting the
    other would re-point the services onto an empty database on the next apply."""
    found: dict[str, list[Dependency]] = {}
    for dep in rows:
        if in_environment(dep.environment, environment):
            found.setdefault(dependency_key(dep), []).append(dep)
    databases: dict[str, Dependency] = {}
    duplicates: dict[str, tuple[str, ...]] = {}
    strays: dict[str, dict[str, str]] = {}
    for key, deps in found.items():
        if len(deps) == 1:
            databases[key] = deps[0]
            continue
        chosen, users_elsewhere = choose([(d.id, d.env_vars) for d in deps], services_env)
        managed = next(d for d in deps if d.id == chosen)
        databases[key] = managed
        duplicates[key] = (managed.id, *(d.id for d in deps if d is not managed))
        if users_elsewhere:
            strays[key] = users_elsewhere
    return databases, duplicates, strays


def is_named(dependency: Dependency) -> bool:
    """Does the row itself say which key it is (the documented status rows do not)?"""
    return bool(dependency.display_name or dependency.name or dependency.dependency_id)


def _attribute(
    rows: list[Dependency],
    environment: str,
    hints: Mapping[str, str],
    wanted: Collection[str],
    pending: Collection[str] = (),
    *,
    project_id: str = "<project_id>",
    unhanded: Mapping[str, str] | None = None,
    recreate_unhanded: bool = True,
) -> list[Dependency]:
    """Give each unnamed row of `environment` its manifest key: from the hint file; else, when a
    create's answer was lost (its intent still pending), the one unnamed row is that create's;
    else by elimination when exactly one row and one wanted key are left. Anything else cannot
    be told apart: stop rather than plan a duplicate database or hand one database's variables
    to another's users.

    A lost create's row whose variables the gateway does not show is left out: no service got
    its credentials (the hint is written before any service is given them), and they cannot be
    read, so apply deletes it and creates the database again (`apply.handlers.dependency`).
    The same goes for a database a run created and died before any service got its credentials
    (`unhanded`, `{id: key}`): known by its id, adopted when its variables can be read, else
    left out (or, without `recreate_unhanded`, for a reader that changes nothing: named)."""
    unhanded = unhanded or {}
    rows = [
        d.model_copy(update={"display_name": unhanded[d.id]})
        if d.id in unhanded and not is_named(d)
        else d
        for d in rows
        if d.id not in unhanded or d.env_vars or not recreate_unhanded
    ]
    pending = [key for key in pending if key not in unhanded.values()]
    named = [
        d.model_copy(update={"display_name": hints[d.id]})
        if not is_named(d) and d.id in hints
        else d
        for d in rows
    ]
    unnamed = [d for d in named if not is_named(d) and in_environment(d.environment, environment)]
    if not unnamed:
        return named
    taken = {dependency_key(d) for d in named if is_named(d)}
    intents = sorted(set(pending) - taken)
    if intents and len(unnamed) == 1 and len(intents) == 1:
        lost = unnamed[0]
        if not lost.env_vars:
            return [d for d in named if d is not lost]
        adopted = lost.model_copy(update={"display_name": intents[0]})
        return [adopted if d is lost else d for d in named]
    left = sorted(set(wanted) - taken)
    if not intents:
        if not wanted:
            return named
        if len(unnamed) == 1 and len(left) == 1:
            adopted = unnamed[0].model_copy(update={"display_name": left[0]})
            return [adopted if d is unnamed[0] else d for d in named]
        if not left:
            return named
    raise unattributed(project_id, [d.id for d in unnamed], sorted(set(left) | set(intents)))


def unattributed(project_id: str, ids: Collection[str], keys: Collection[str]) -> OdplanError:
    """The stop when live databases cannot be told apart: which ids, and how to settle it."""
    return UnattributedDependencies(
        f"the gateway lists {len(ids)} database(s) without a name "
        f"({', '.join(ids)}) and the manifest wants {', '.join(keys) or 'none of them'}: "
        "odplan cannot tell which is which (nothing was changed)",
        f"Write the hint by hand in {HINT_FILE} (it maps each manifest key to a dependency id, "
        'e.g. {"<project>": {"<environment>": {"db": "<id>"}}}), or run `odplan import`; or '
        f"delete the database(s) that are not yours with `DELETE /v1/dependencies/{project_id}"
        "/<id>`. odplan will not create a second database in their place.",
    )


def _ours(services: list[Service], environment: str) -> dict[str, Service]:
    """The services of `environment`, keyed by name. A project may hold a `web` in staging and
    another `web` in production: the other environment's rows are not this plan's to change
    (seeing them as ours would plan replacing them)."""
    return {
        s.name: s
        for s in sorted(services, key=lambda s: s.name)
        if in_environment(s.environment, environment)
    }


def dependency_key(dependency: Dependency) -> str:
    """The key a live database goes by (its manifest key): refresh, apply's finder and
    `odplan import` all use this one rule, so they pick the same row."""
    return dependency.display_name or dependency.name or dependency.dependency_id or dependency.id


def in_environment(row_environment: str, environment: str) -> bool:
    """A row belongs to `environment` (rows that name none belong to every environment)."""
    return row_environment in ("", environment)


async def _service_detail(
    client: GatewayClient, project_id: str, service: Service, environment: str
) -> ObservedService:
    env, domains, deployments = await asyncio.gather(
        client.get_env(project_id, service.id),
        client.list_service_domains(service.id, environment=environment, type="auto"),
        client.list_deployments(project_id=project_id, service_id=service.id),
    )
    row: Mapping[str, Any] = service.model_dump()
    recent = newest_deployments(deployments, DEPLOYMENT_HISTORY)
    return ObservedService(
        id=service.id,
        type=service.type,
        environment=service.environment,
        port=service.port,
        source_path=normal_source_path(service.source_path),
        replicas=service.replicas,
        auto_scaling=_optional_bool(row.get("auto_scaling")),
        internal_only=_optional_bool(row.get("internal_only")),
        dependencies=tuple(row.get("dependencies") or ()),
        build_variables=secret_map(service.build_variables),
        unread_fields=unreturned_fields(service),
        env=secret_map(env.variables),
        deployments=tuple(_deployment(d) for d in recent),
        domain=_auto_domain(domains, environment),
        **{name: _optional_str(row.get(name)) for name in _SETTING_FIELDS},
    )


def unreturned_fields(service: Service) -> frozenset[str]:
    """The fields the documents never show that this service row came back without."""
    absent = set()
    if "dependencies" not in service.model_dump():
        absent.add("dependencies")
    if "build_variables" not in service.model_fields_set:
        absent.add("build_variables")
    return frozenset(absent)


def newest_deployments(deployments: list[Deployment], count: int) -> list[Deployment]:
    """The `count` most recent deployments, newest first, by time (not by text); those without
    a readable time count as the oldest, in the gateway's order."""
    return sorted(deployments, key=lambda d: timestamp_order(d.created_at), reverse=True)[:count]


def _deployment(deployment: Deployment) -> ObservedDeployment:
    return ObservedDeployment(
        id=deployment.id,
        status=deployment.status,
        progress=deployment.progress or 0,
        description=deployment.description or None,
        created_at=deployment.created_at,
    )


def _auto_domain(domains: list[ServiceDomain], environment: str) -> ObservedDomain | None:
    for domain in domains:
        if domain.type in ("", "auto") and domain.environment in ("", environment):
            return ObservedDomain(id=domain.id, domain=domain.domain, environment=environment)
    return None


def normal_source_path(value: str) -> str:
    """The form resolution uses: a folder inside the archive, `.` for the root (the gateway
    answers `""` for the root)."""
    try:
        return normalize_subpath(value) or "."
    except SourceError:
        return value


def secret_map(values: Mapping[str, str]) -> dict[str, SecretStr]:
    """Variables as read from the gateway, held as secrets (masked in every repr)."""
    return {key: SecretStr(value) for key, value in values.items()}


def _optional_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _optional_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)
