"""Rules for the project row: create it when missing; never move it between regions."""

from __future__ import annotations

from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.model import ActionKind, ActionReason
from opendeploy_plan.plan.rules.context import Draft, PlanContext, adds

__all__ = ["plan_project"]


def plan_project(ctx: PlanContext) -> None:
    desired = ctx.desired
    live = ctx.observed.project
    if live is None:
        changes = adds(
            {
                "name": desired.project,
                "region_id": desired.region_id,
                "description": desired.description,
            }
        )
        ctx.add(Draft(addr.PROJECT, ActionKind.CREATE, ActionReason.NEW, changes))
        return
    if desired.region_id and live.region_id and live.region_id != desired.region_id:
        ctx.error(
            addr.PROJECT,
            f"project {live.name!r} lives in region {live.region_id}, not {desired.region_id}",
            "odplan cannot move a project between regions. Use the live region in the "
            "manifest, or deploy under another project name.",
        )
