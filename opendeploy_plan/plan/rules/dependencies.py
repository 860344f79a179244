"""Rules for dependencies (databases): create the missing, replace on a type change, a
`--replace` or a failed provisioning. Replacing a database with data needs --allow-data-loss.

A live row without a type (the documented status rows carry `{id, status}` only) is taken
as the type the manifest wants: unknown is not different.

A dependency created or replaced here is *pending*: its `env_vars` are known after apply only,
so the services that use it see "(known after apply)".
"""

from __future__ import annotations

from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.model import ActionKind, ActionReason, AttributeChange, ChangeKind
from opendeploy_plan.plan.rules.context import Draft, PlanContext, adds

__all__ = ["plan_dependencies"]


def plan_dependencies(ctx: PlanContext) -> None:
    for key in sorted(ctx.desired.dependencies):
        want = ctx.desired.dependencies[key]
        live = ctx.observed.dependencies.get(key)
        address = addr.dependency(key)
        if live is None:
            changes = adds(
                {
                    "type": want.type,
                    "template": want.template,
                    "database_name": want.database_name,
                    "username": want.username,
                }
            )
            draft = ctx.add(Draft(address, ActionKind.CREATE, ActionReason.NEW, changes))
            draft.wants.add(addr.PROJECT)
            ctx.pending_deps.add(key)
            continue
        # A row that does not say its type (documented rows are `{id, status}`) is not a
        # different type: unknown is not different.
        if live.type and live.type != want.type:
            reason = ActionReason.TYPE_CHANGED
            change = AttributeChange(
                "type", ChangeKind.CHANGE, live.type, want.type, "forces replacement"
            )
            ctx.gate_data_loss(address, "Replacing")
        elif address in ctx.replace:
            reason = ActionReason.REPLACE_REQUESTED
            change = AttributeChange("type", ChangeKind.CHANGE, live.type, want.type)
            ctx.gate_data_loss(address, "Replacing")
        elif live.status == "failed":
            reason = ActionReason.DEPENDENCY_FAILED
            change = AttributeChange("status", ChangeKind.CHANGE, "failed", "running")
        else:
            continue
        draft = ctx.add(Draft(address, ActionKind.REPLACE, reason, [change]))
        draft.wants.add(addr.PROJECT)
        ctx.pending_deps.add(key)
