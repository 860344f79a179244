"""Checks that add diagnostics but no action: manifest references against live dependencies,
`--target`/`--exclude`/`--redeploy`/`--replace` addresses, duplicate live databases and the
guest caps."""

from __future__ import annotations

from collections.abc import Callable

from opendeploy_plan import platform
from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.rules.context import PlanContext

__all__ = [
    "check_duplicate_dependencies",
    "check_guest_caps",
    "check_option_addresses",
    "check_references",
]


def check_references(ctx: PlanContext) -> None:
    desired, observed = ctx.desired, ctx.observed
    services = desired.services
    for name in sorted(services):
        svc = services[name]
        where = addr.service(name)
        for dep in svc.uses:
            if dep not in desired.dependencies:
                ctx.error(where, f"uses unknown dependency {dep!r}")
        for sibling in svc.after:
            if sibling not in services:
                ctx.error(where, f"after: unknown service {sibling!r}")
            elif sibling == name:
                ctx.error(where, "after: a service cannot come after itself")
        for key, value in [*svc.env.items(), *svc.build_env.items()]:
            for ref in value.dependency_refs:
                if ref.dependency not in desired.dependencies:
                    ctx.error(where, f"{key} refers to unknown dependency {ref.dependency!r}")
                    continue
                live = observed.dependencies.get(ref.dependency)
                if (
                    live is not None
                    and live.type == desired.dependencies[ref.dependency].type
                    and ref.key not in live.env_vars
                    and live.status != "failed"
                ):
                    ctx.error(
                        where,
                        f"{key} refers to {ref.placeholder()}, which dependency."
                        f"{ref.dependency} does not provide",
                        "Provided: " + (", ".join(sorted(live.env_vars)) or "(none)"),
                    )


def check_option_addresses(ctx: PlanContext) -> None:
    options, desired, observed = ctx.options, ctx.desired, ctx.observed
    for flag, values in (
        ("--target", options.target),
        ("--exclude", options.exclude),
        ("--redeploy", options.redeploy),
        ("--replace", options.replace),
    ):
        for value in values:
            if not addr.is_valid(value):
                ctx.error(
                    value,
                    f"{flag} {value!r} is not an address",
                    "Addresses look like project, dependency.db, service.web, "
                    "service.web.env, service.web.deployment or service.web.domain.",
                )
    known = {addr.PROJECT, addr.PROJECT_SOURCE}
    known |= {addr.dependency(k) for k in (*desired.dependencies, *observed.dependencies)}
    known |= {addr.service(n) for n in (*desired.services, *observed.services)}
    for flag, values in (("--target", options.target), ("--exclude", options.exclude)):
        for value in values:
            root = addr.canonical(value)
            name = addr.service_name(root)
            resource = addr.service(name) if name is not None else root
            if addr.is_valid(value) and resource not in known:
                ctx.warning(
                    value, f"{flag} {value!r} matches nothing in the manifest or live project"
                )
    for value in options.redeploy:
        name = addr.service_name(value)
        if addr.is_valid(value) and (name is None or name not in desired.services):
            ctx.warning(value, f"--redeploy {value!r} names no service in the manifest")
    replaceable = {addr.service(n) for n in observed.services}
    replaceable |= {addr.dependency(k) for k in observed.dependencies}
    for value in options.replace:
        if addr.is_valid(value) and value not in replaceable:
            ctx.warning(
                value,
                f"--replace {value!r} names no live service or dependency",
                "Only services and dependencies that exist can be replaced.",
            )


def check_duplicate_dependencies(ctx: PlanContext) -> None:
    """Two live databases with one name in this environment (two applies at once can create
    both): odplan manages the first and says so, never picks silently."""
    environment = ctx.desired.environment
    for key, ids in sorted(ctx.observed.duplicate_dependencies.items()):
        managed, *others = ids
        named = f"{len(ids)} live databases are named {key!r} in {environment}"
        if key not in ctx.desired.dependencies:
            ctx.warning(
                addr.dependency(key),
                f"{named} ({', '.join(ids)}), none in the manifest",
                "--prune with --allow-data-loss deletes all of them.",
            )
            continue
        project_id = ctx.observed.project.id if ctx.observed.project else "<project_id>"
        ctx.warning(
            addr.dependency(key),
            f"{named}; odplan manages {managed} (the one your services' env points at, else "
            f"the oldest) and leaves {', '.join(others)} alone",
            "The platform does not keep database names unique (two applies at once can each "
            "create one). Once the other holds no data you need, delete it in the dashboard "
            "or with "
            + "; ".join(f"DELETE /v1/dependencies/{project_id}/{other}" for other in others)
            + ". Deleting or replacing this dependency deletes all of them.",
        )


def check_guest_caps(ctx: PlanContext) -> None:
    """Errors for an unbound guest credential (the gateway answers `403 guest_quota_exceeded`,
    failure-playbook.md), each with the fix; a credential linked to an account has no caps."""
    if not ctx.options.guest:
        return
    link = (
        "or link the credential to an account (the binding URL `odplan whoami` shows): linked "
        "accounts have no guest caps."
    )
    services = ctx.desired.services
    if len(services) > platform.GUEST_SERVICES_PER_PROJECT:
        ctx.error(
            addr.PROJECT,
            f"{len(services)} services exceed the guest cap of "
            f"{platform.GUEST_SERVICES_PER_PROJECT} per project",
            "Deploy one service per project, " + link,
        )
    for name in sorted(services):
        svc = services[name]
        where = addr.service(name)
        if svc.cpu_limit and _safe(platform.cpu_millicores, svc.cpu_limit) > (
            platform.GUEST_CPU_LIMIT_MILLICORES
        ):
            ctx.error(
                where,
                f"cpu limit {svc.cpu_limit} exceeds the guest cap of 1 vCPU",
                "Set resources.cpu.limit to 1 (or less), " + link,
            )
        if svc.memory_limit and _safe(platform.memory_bytes, svc.memory_limit) > (
            platform.GUEST_MEMORY_LIMIT_BYTES
        ):
            ctx.error(
                where,
                f"memory limit {svc.memory_limit} exceeds the guest cap of 1Gi",
                "Set resources.memory.limit to 1Gi (or less), " + link,
            )
        if svc.replicas is not None and svc.replicas > platform.GUEST_MAX_REPLICAS:
            ctx.error(
                where,
                f"{svc.replicas} replicas exceed the guest cap of {platform.GUEST_MAX_REPLICAS}",
                f"Set replicas: {platform.GUEST_MAX_REPLICAS}, " + link,
            )


def _safe(parse: Callable[[str], int], text: str) -> int:
    try:
        return parse(text)
    except ValueError:
        return 0
