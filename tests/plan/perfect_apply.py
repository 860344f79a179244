"""The observed state a perfect `odplan apply` of a desired state would leave behind.

Used by the property tests ("apply, then plan, is empty") and usable by apply tests as the
golden expectation of what the emulator should hold afterwards.
"""

from __future__ import annotations

from pydantic import SecretStr

from opendeploy_plan import platform
from opendeploy_plan.plan import (
    DesiredState,
    format_stamp,
    resolve_variables,
    service_config_digest,
)
from opendeploy_plan.plan.stamp import Stamp
from opendeploy_plan.state.model import (
    ObservedDependency,
    ObservedDeployment,
    ObservedDomain,
    ObservedProject,
    ObservedService,
    ObservedState,
)


def dependency_env_vars(key: str, dep_type: str) -> dict[str, SecretStr]:
    """Deterministic stand-ins for what the platform returns in a dependency's `env_vars`."""
    password = f"pw-{key}-{dep_type}"
    return {
        "DATABASE_URL": SecretStr(f"{dep_type}://{key}:{password}@{key}.internal/{key}"),
        f"{dep_type.upper()}_PASSWORD": SecretStr(password),
    }


def observed_after_apply(desired: DesiredState, *, run_id: str = "run-1") -> ObservedState:
    dependencies = {
        key: ObservedDependency(
            id=f"dep-id-{key}",
            type=dep.type,
            status="running",
            display_name=key,
            environment=desired.environment,
            env_vars=dependency_env_vars(key, dep.type),
        )
        for key, dep in desired.dependencies.items()
    }
    dependency_env = {key: dict(dep.env_vars) for key, dep in dependencies.items()}
    services: dict[str, ObservedService] = {}
    for index, (name, svc) in enumerate(sorted(desired.services.items())):
        env = resolve_variables(svc.env, svc.uses, dependency_env, {}, svc.env_policy)
        build = resolve_variables(svc.build_env, (), dependency_env, {}, svc.env_policy)
        prefix = svc.subdomain or f"{name}-{desired.project}-gen"
        service = ObservedService(
            id=f"svc-id-{name}",
            environment=desired.environment,
            dependencies=tuple(svc.after),
            env={k: SecretStr(v) for k, v in env.items()},
            build_variables={k: SecretStr(v) for k, v in build.items()},
            domain=ObservedDomain(
                id=f"dom-{name}",
                domain=platform.auto_domain(prefix, desired.environment),
                environment=desired.environment,
            ),
            **{"type": svc.type, **svc.settings()},
        )
        config = service_config_digest(svc, service, dependency_env)
        stamp = Stamp(desired.source.digest, desired.service_digest(name), run_id, config)
        deployment = ObservedDeployment(
            id=f"deploy-{name}",
            status="success",
            progress=100,
            description=format_stamp(stamp, f"odplan deploy of {name}"),
            created_at=f"2026-01-01T10:{index:02d}:00Z",
        )
        services[name] = service.model_copy(update={"deployments": (deployment,)})
    return ObservedState(
        project=ObservedProject(
            id="proj-id",
            name=desired.project,
            region_id=desired.region_id,
            description=desired.description,
            has_source=True,
        ),
        dependencies=dependencies,
        services=services,
    )
