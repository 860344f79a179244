"""Rules for the auto domain: rename it to the manifest's `subdomain`, never redeploying for
it, and never touching the domain of a service without a successful (or planned) deployment."""

from __future__ import annotations

from opendeploy_plan import platform
from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.model import (
    ActionKind,
    ActionReason,
    AttributeChange,
    ChangeKind,
    DisplayValue,
    Mask,
)
from opendeploy_plan.plan.rules.context import Draft, PlanContext
from opendeploy_plan.plan.rules.services import ServiceInputs
from opendeploy_plan.state.model import ObservedDeployment, ObservedService

__all__ = ["plan_domain", "plan_new_domain"]


def plan_new_domain(ctx: PlanContext, inputs: ServiceInputs) -> None:
    """A new or replaced service gets its subdomain after its first deployment."""
    if not inputs.service.subdomain:
        return
    target = platform.auto_domain(inputs.service.subdomain, ctx.desired.environment)
    domain = ctx.add(
        Draft(
            addr.service_domain(inputs.name),
            ActionKind.RENAME_DOMAIN,
            ActionReason.SUBDOMAIN_CHANGED,
            [AttributeChange("domain", ChangeKind.CHANGE, Mask.UNKNOWN, target)],
        )
    )
    domain.wants.add(addr.service_deployment(inputs.name))


def plan_domain(
    ctx: PlanContext,
    inputs: ServiceInputs,
    live: ObservedService,
    latest: ObservedDeployment | None,
) -> None:
    """An existing service: rename when the live auto domain differs (after any deploy)."""
    name = inputs.name
    if not inputs.service.subdomain:
        return
    target = platform.auto_domain(inputs.service.subdomain, ctx.desired.environment)
    current = live.domain.domain if live.domain else None
    if current == target:
        return
    deployment_address = addr.service_deployment(name)
    if deployment_address not in ctx.drafts and (latest is None or latest.status != "success"):
        ctx.note(
            addr.service_domain(name),
            "not renaming the domain: the service has no successful deployment",
        )
        return
    before: DisplayValue = current if current is not None else Mask.UNKNOWN
    draft = ctx.add(
        Draft(
            addr.service_domain(name),
            ActionKind.RENAME_DOMAIN,
            ActionReason.SUBDOMAIN_CHANGED,
            [AttributeChange("domain", ChangeKind.CHANGE, before, target)],
        )
    )
    draft.wants |= {deployment_address, addr.service(name)}
