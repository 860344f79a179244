"""Rules for the service row and its runtime env.

A missing service is created with its full env; a type or environment change, or `--replace`,
replaces it. An existing service gets an in-place update for changed settings (resources and
replicas without a redeploy, everything else with one) and build variables, and a full env PUT
(`service.X.env`) for changed runtime variables. What to deploy afterwards is the deployment
rules' call (`deployments.py`); this module only says what changed (`RowChanges`).
"""

from __future__ import annotations

from dataclasses import dataclass

from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.desired import RESIZE_FIELDS, DesiredService
from opendeploy_plan.plan.diff import (
    WantedValue,
    diff_settings,
    diff_variables,
    injects,
    wanted_variables,
)
from opendeploy_plan.plan.model import ActionKind, ActionReason, AttributeChange, ChangeKind, Mask
from opendeploy_plan.plan.rules.context import Draft, PlanContext, adds
from opendeploy_plan.plan.stamp import build_digest, source_stamp
from opendeploy_plan.state.model import ObservedService

__all__ = [
    "UNREAD_BUILD_PATH",
    "RowChanges",
    "ServiceInputs",
    "check_unreadable_uses",
    "plan_new_service",
    "plan_service_row",
    "service_inputs",
    "wanted_build_digest",
]


@dataclass(frozen=True)
class ServiceInputs:
    """What the service rules need about one manifest service, worked out once."""

    name: str
    service: DesiredService
    live: ObservedService | None
    # Set when the live service must be replaced (type or environment changed, --replace).
    replace_reason: ActionReason | None
    wanted_env: dict[str, WantedValue]
    pending_env: tuple[str, ...]
    wanted_build: dict[str, WantedValue]
    pending_build: tuple[str, ...]
    # The dependencies it uses or whose variables it refers to.
    uses_addresses: frozenset[str]

    @property
    def address(self) -> str:
        return addr.service(self.name)

    @property
    def is_new(self) -> bool:
        """Created afresh: missing live, or replaced."""
        return self.live is None or self.replace_reason is not None


@dataclass(frozen=True)
class RowChanges:
    """What changed on an existing service, for the deployment rules to decide on."""

    settings: tuple[AttributeChange, ...] = ()
    build: tuple[AttributeChange, ...] = ()
    env: tuple[AttributeChange, ...] = ()
    env_reason: ActionReason | None = None

    @property
    def redeploying_settings(self) -> tuple[AttributeChange, ...]:
        """Changed settings that need a redeploy (all but resources and replicas)."""
        return tuple(c for c in self.settings if c.path not in RESIZE_FIELDS)


UNREAD_BUILD_PATH = "build_env.*"


def wanted_build_digest(wanted: dict[str, WantedValue], service_id: str) -> str | None:
    """The `b` stamp field for the build variables the manifest asks for (None while one is
    only known after apply). Apply writes it into the deployment it starts; a later plan
    compares it when the gateway does not show `build_variables`."""
    if any(w.value is None for w in wanted.values()):
        return None
    return build_digest({k: str(w.value) for k, w in wanted.items()}, service_id)


def unread_build_changes(inputs: ServiceInputs, live: ObservedService) -> list[AttributeChange]:
    """One `build_env.*` change when the manifest's build variables differ from those the
    serving build was made with (its stamp's `b`); nothing when that is not known."""
    serving = live.latest_successful_deployment()
    if serving is None:
        return []
    descriptions = {d.id: d.description for d in live.deployments}
    stamp = source_stamp(serving.description, descriptions.get)
    wanted = wanted_build_digest(inputs.wanted_build, live.id)
    if stamp is None or stamp.build_digest is None or wanted is None:
        return []
    if stamp.build_digest == wanted:
        return []
    return [
        AttributeChange(
            UNREAD_BUILD_PATH,
            ChangeKind.CHANGE,
            Mask.SENSITIVE,
            Mask.SENSITIVE,
            f"differ from those deployment {serving.id} was built with (the gateway does not "
            "show build variables, so not which one)",
        )
    ]


def service_inputs(ctx: PlanContext, name: str, svc: DesiredService) -> ServiceInputs:
    live = ctx.observed.services.get(name)
    dep_env = ctx.dependency_env()
    wanted_env, pending_env = wanted_variables(svc.env, svc.uses, dep_env)
    wanted_build, pending_build = wanted_variables(svc.build_env, (), dep_env)
    uses_addresses = {addr.dependency(d) for d in svc.variables_from()}
    replace_reason: ActionReason | None = None
    if live is not None:
        if live.type != svc.type:
            replace_reason = ActionReason.TYPE_CHANGED
        elif live.environment != ctx.desired.environment:
            replace_reason = ActionReason.ENVIRONMENT_CHANGED
        elif addr.service(name) in ctx.replace:
            replace_reason = ActionReason.REPLACE_REQUESTED
    return ServiceInputs(
        name=name,
        service=svc,
        live=live,
        replace_reason=replace_reason,
        wanted_env=wanted_env,
        pending_env=tuple(pending_env),
        wanted_build=wanted_build,
        pending_build=tuple(pending_build),
        uses_addresses=frozenset(uses_addresses),
    )


def plan_new_service(ctx: PlanContext, inputs: ServiceInputs) -> None:
    """Create (or replace) the service row with its full env."""
    svc, live = inputs.service, inputs.live
    environment = ctx.desired.environment
    changes: list[AttributeChange] = []
    if live is not None and inputs.replace_reason is not None:
        if live.type != svc.type:
            changes.append(
                AttributeChange(
                    "type", ChangeKind.CHANGE, live.type, svc.type, "forces replacement"
                )
            )
        if live.environment != environment:
            changes.append(
                AttributeChange(
                    "environment",
                    ChangeKind.CHANGE,
                    live.environment,
                    environment,
                    "forces replacement",
                )
            )
    else:
        changes.append(AttributeChange("type", ChangeKind.ADD, None, svc.type))
        changes.append(AttributeChange("environment", ChangeKind.ADD, None, environment))
    settings: dict[str, object] = dict(svc.settings())
    settings["dependencies"] = list(svc.after)
    changes.extend(adds(settings))
    changes.extend(diff_variables("env", inputs.wanted_env, inputs.pending_env, {}, "replace", {}))
    changes.extend(
        diff_variables("build_env", inputs.wanted_build, inputs.pending_build, {}, "replace", {})
    )
    kind = ActionKind.CREATE if live is None else ActionKind.REPLACE
    reason = inputs.replace_reason or ActionReason.NEW
    check_unreadable_uses(ctx, inputs)
    draft = ctx.add(Draft(inputs.address, kind, reason, changes))
    draft.wants |= {addr.PROJECT, *inputs.uses_addresses}
    draft.wants |= {addr.service(s) for s in svc.after}


def check_unreadable_uses(ctx: PlanContext, inputs: ServiceInputs) -> None:
    """A plan error when a service to be created uses a live database whose variables nobody
    can read: the gateway shows a dependency's `env_vars` only in the answer that created it
    (api-schemas.md), and no live service of the project carries them (a database made by
    hand, adopted by elimination, or whose services were deleted). Creating the service anyway
    would leave it without `DATABASE_URL` and report success."""
    known = ctx.dependency_env()
    for dep in sorted(inputs.service.uses):
        live = ctx.observed.dependencies.get(dep)
        if live is None or dep in ctx.pending_deps or known.get(dep):
            continue
        wanted = ctx.desired.dependencies.get(dep)
        kind = wanted.type if wanted is not None else live.type or ""
        if any(injects(kind, key) for key in inputs.service.env):
            continue  # the manifest sets the connection itself
        ctx.error(
            inputs.address,
            f"{inputs.address} uses {addr.dependency(dep)}, whose connection variables cannot "
            "be read: the gateway shows a database's variables only when it creates it, and "
            "no live service of this project carries them",
            f"Set the variables {inputs.name} needs in its env yourself (for example from a "
            f"secret), or recreate the database with `--replace {addr.dependency(dep)} "
            "--allow-data-loss` so that odplan reads the new one's variables.",
        )


def plan_service_row(ctx: PlanContext, inputs: ServiceInputs, live: ObservedService) -> RowChanges:
    """Update an existing service in place: settings and build variables on the row, runtime
    variables through the env PUT."""
    svc = inputs.service
    settings_changes = diff_settings(svc, live)
    # Build variables the gateway does not show are unknown, not different (no redeploy loop),
    # unless the last build's stamp says which variables it was built with.
    build_changes = (
        unread_build_changes(inputs, live)
        if "build_variables" in live.unread_fields
        else diff_variables(
            "build_env",
            inputs.wanted_build,
            inputs.pending_build,
            live.build_variables,
            svc.env_policy,
            {},
        )
    )
    env_changes = diff_variables(
        "env",
        inputs.wanted_env,
        inputs.pending_env,
        live.env,
        svc.env_policy,
        ctx.provided_by_pending(svc.uses),
    )
    row = RowChanges(tuple(settings_changes), tuple(build_changes), tuple(env_changes))
    if settings_changes or build_changes:
        if row.redeploying_settings:
            reason = ActionReason.SETTINGS_CHANGED
        elif build_changes:
            reason = ActionReason.BUILD_ENV_CHANGED
        else:
            reason = ActionReason.RESOURCES_CHANGED
        marked = [
            c
            if c.path in RESIZE_FIELDS
            else AttributeChange(c.path, c.kind, c.before, c.after, "requires redeploy")
            for c in settings_changes
        ]
        draft = ctx.add(Draft(inputs.address, ActionKind.UPDATE, reason, [*marked, *build_changes]))
        draft.wants |= {*inputs.uses_addresses, *(addr.service(s) for s in svc.after)}
    if not env_changes:
        return row
    only_pending = all(c.after is Mask.UNKNOWN for c in env_changes) and bool(
        inputs.pending_env or ctx.provided_by_pending(svc.uses)
    )
    env_reason = ActionReason.DEPENDENCY_ENV_CHANGED if only_pending else ActionReason.ENV_CHANGED
    draft = ctx.add(
        Draft(addr.service_env(inputs.name), ActionKind.UPDATE, env_reason, env_changes)
    )
    draft.wants |= {inputs.address, *inputs.uses_addresses}
    return RowChanges(row.settings, row.build, row.env, env_reason)
