"""Rules for deployments: when a service (re)deploys, and when an in-flight one is awaited.

A new or replaced service deploys. An existing one redeploys for `--redeploy`, no deployment
yet, a failed latest deployment, a source digest other than its latest successful deployment's
stamp, changed env / build variables / settings, or live variables other than those the latest
deployment started with (an interrupted apply). A deployment already in flight is never
duplicated: it is awaited, and a needed deploy waits for it first.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import SecretStr

from opendeploy_plan import platform
from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.desired import DesiredService
from opendeploy_plan.plan.diff import wanted_variables
from opendeploy_plan.plan.model import (
    REASON_TEXT,
    ActionKind,
    ActionReason,
    AttributeChange,
    ChangeKind,
    DisplayValue,
    Mask,
)
from opendeploy_plan.plan.rules.context import Draft, PlanContext, short_digest
from opendeploy_plan.plan.rules.services import RowChanges, ServiceInputs, wanted_build_digest
from opendeploy_plan.plan.stamp import config_digest, same_digest, source_stamp
from opendeploy_plan.state.model import ObservedDeployment, ObservedService

__all__ = [
    "plan_first_deployment",
    "plan_redeployment",
    "service_build_digest",
    "service_config_digest",
]


def plan_first_deployment(ctx: PlanContext, inputs: ServiceInputs) -> Draft:
    """The deployment of a new or replaced service."""
    reason = ActionReason.NEW_SERVICE if inputs.live is None else ActionReason.SERVICE_REPLACED
    digest = ctx.desired.service_digest(inputs.name)
    deploy = ctx.add(
        Draft(
            addr.service_deployment(inputs.name),
            ActionKind.DEPLOY,
            reason,
            [AttributeChange("source", ChangeKind.ADD, None, short_digest(digest))],
        )
    )
    deploy.wants |= {inputs.address, addr.PROJECT_SOURCE, *inputs.uses_addresses}
    deploy.wants |= {addr.service_deployment(s) for s in inputs.service.after}
    return deploy


def plan_redeployment(
    ctx: PlanContext, inputs: ServiceInputs, live: ObservedService, row: RowChanges
) -> ObservedDeployment | None:
    """Deploy, wait or leave alone an existing service; returns its latest deployment."""
    name, svc = inputs.name, inputs.service
    reasons: list[ActionReason] = []
    if inputs.address in ctx.redeploy or addr.service_deployment(name) in ctx.redeploy:
        reasons.append(ActionReason.REDEPLOY_REQUESTED)
    latest = live.latest_deployment()
    in_flight = latest is not None and latest.status not in platform.TERMINAL_DEPLOYMENT_STATUSES
    if latest is None:
        reasons.append(ActionReason.NEVER_DEPLOYED)
    elif not in_flight and latest.status != "success":
        reasons.append(ActionReason.LATEST_DEPLOYMENT_FAILED)
    reference = latest if in_flight else live.latest_successful_deployment()
    digest = ctx.desired.service_digest(name)
    stamped_digest: str | None = None
    unstamped: ObservedDeployment | None = None
    config_undeployed = False
    if reference is not None:
        known = {d.id: d.description for d in live.deployments}
        stamp = source_stamp(reference.description, known.get)
        if stamp is None:
            unstamped = reference
        else:
            stamped_digest = stamp.service_digest
            if not same_digest(stamp.service_digest, digest):
                reasons.append(ActionReason.SOURCE_CHANGED)
            config_undeployed = bool(
                stamp.config_digest
                and stamp.config_digest != service_config_digest(svc, live, ctx.dependency_env())
            )
    if row.env_reason is not None:
        reasons.append(row.env_reason)
    if row.build:
        reasons.append(ActionReason.BUILD_ENV_CHANGED)
    if row.redeploying_settings:
        reasons.append(ActionReason.SETTINGS_CHANGED)
    if config_undeployed and not row.env and not row.build:
        reasons.append(ActionReason.CONFIG_NOT_DEPLOYED)

    address = addr.service_deployment(name)
    if reasons:
        before: DisplayValue = None
        if stamped_digest is not None:
            before = short_digest(stamped_digest)
        elif unstamped is not None:
            before = "(unknown)"
        source_changes: list[AttributeChange] = []
        notes: list[str] = []
        if before == short_digest(digest):
            notes.append(f"source {before} unchanged")
        else:
            kind = ChangeKind.CHANGE if before is not None else ChangeKind.ADD
            source_changes.append(AttributeChange("source", kind, before, short_digest(digest)))
        others = list(dict.fromkeys(REASON_TEXT[r] for r in reasons[1:]))
        if others:
            notes.append("also: " + "; ".join(others))
        draft = ctx.add(
            Draft(
                address,
                ActionKind.DEPLOY,
                reasons[0],
                source_changes,
                detail="; ".join(notes) or None,
            )
        )
        draft.wants |= {
            inputs.address,
            addr.service_env(name),
            addr.PROJECT_SOURCE,
            *inputs.uses_addresses,
        }
        draft.wants |= {addr.service_deployment(s) for s in svc.after}
        if in_flight and latest is not None:
            draft.waits_for = latest.id
            wait_text = f"waits for in-flight deployment {latest.id} ({latest.status}) first"
            draft.detail = wait_text if draft.detail is None else f"{wait_text}; {draft.detail}"
    elif in_flight and latest is not None:
        draft = ctx.add(
            Draft(
                address,
                ActionKind.WAIT,
                ActionReason.DEPLOYMENT_IN_FLIGHT,
                [AttributeChange("status", ChangeKind.CHANGE, latest.status, Mask.UNKNOWN)],
                detail=f"deployment {latest.id} is {latest.status}; wait for a terminal status",
                waits_for=latest.id,
            )
        )
        draft.wants |= {addr.service_deployment(s) for s in svc.after}
        if unstamped is not None:
            ctx.note(
                address,
                f"in-flight deployment {latest.id} was not made by odplan; its source is "
                "unknown, so it is awaited and not redeployed (use --redeploy to force)",
            )
    elif unstamped is not None:
        ctx.note(
            address,
            f"latest successful deployment {unstamped.id} has no odplan stamp, so its "
            "source is unknown; not redeploying (use --redeploy to force)",
        )
    return latest


def service_config_digest(
    service: DesiredService,
    live: ObservedService,
    dependency_env: Mapping[str, Mapping[str, SecretStr]],
) -> str:
    """The `config` stamp field for `live`'s current variables, limited to the keys odplan
    manages: all of them with `env_policy: replace`, only the manifest's and the used
    dependencies' keys with `merge` (so an unmanaged key edited in the dashboard causes no
    redeploy). Apply calls it on the service read back right before it deploys."""
    env = {k: v.get_secret_value() for k, v in live.env.items()}
    build = {k: v.get_secret_value() for k, v in live.build_variables.items()}
    if service.env_policy == "merge":
        env_keys = set(service.env)
        for dep in service.uses:
            env_keys |= set(dependency_env.get(dep, {}))
        env = {k: v for k, v in env.items() if k in env_keys}
        build = {k: v for k, v in build.items() if k in service.build_env}
    return config_digest(env, build, live.id)


def service_build_digest(
    service: DesiredService,
    dependency_env: Mapping[str, Mapping[str, SecretStr]],
    service_id: str,
) -> str | None:
    """The `build` stamp field: a keyed digest of the build variables the manifest asks for
    (None while one is only known after apply). Apply writes it into every deployment, so a
    plan against a gateway that does not show `build_variables` still sees a change to them."""
    wanted, _ = wanted_variables(service.build_env, (), dependency_env)
    return wanted_build_digest(wanted, service_id)
