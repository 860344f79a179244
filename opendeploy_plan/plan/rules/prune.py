"""Rules for live resources the manifest does not name: listed as unmanaged, or deleted with
`--prune` (databases only with --allow-data-loss, and after the services that are deleted)."""

from __future__ import annotations

from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.model import ActionKind, ActionReason, AttributeChange, ChangeKind
from opendeploy_plan.plan.rules.context import Draft, PlanContext

__all__ = ["plan_unmanaged"]


def plan_unmanaged(ctx: PlanContext) -> None:
    observed, desired = ctx.observed, ctx.desired
    deleted_services: set[str] = set()
    for name in sorted(set(observed.services) - set(desired.services)):
        address = addr.service(name)
        if not ctx.options.prune:
            ctx.unmanaged.append(address)
            continue
        live = observed.services[name]
        ctx.add(
            Draft(
                address,
                ActionKind.DELETE,
                ActionReason.PRUNE,
                [AttributeChange("type", ChangeKind.REMOVE, live.type, None)],
            )
        )
        deleted_services.add(address)
    for key in sorted(set(observed.dependencies) - set(desired.dependencies)):
        address = addr.dependency(key)
        if not ctx.options.prune:
            ctx.unmanaged.append(address)
            continue
        live_dep = observed.dependencies[key]
        ctx.gate_data_loss(address, "Deleting")
        draft = ctx.add(
            Draft(
                address,
                ActionKind.DELETE,
                ActionReason.PRUNE,
                [AttributeChange("type", ChangeKind.REMOVE, live_dep.type, None)],
            )
        )
        draft.wants |= deleted_services
