"""Rules for dependencies (databases): create the missing, replace on a type change, a
`--replace` or a failed provisioning. Replacing a database with data needs --allow-data-loss.

A live row without a type (the documented status rows carry `{id, status}` only) is taken
as the type the manifest wants: unknown is not different.

Two live databases with one name (two applies at once): refresh manages the one the services'
env points at. A service that points at the *other* one would be re-pointed by this apply (its
data left behind): that needs --allow-data-loss too (`guard_repointing`).

A dependency created or replaced here is *pending*: its `env_vars` are known after apply only,
so the services that use it see "(known after apply)".
"""

from __future__ import annotations

from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.model import ActionKind, ActionReason, AttributeChange, ChangeKind
from opendeploy_plan.plan.rules.context import Draft, PlanContext, adds

__all__ = ["guard_repointing", "plan_dependencies"]


def plan_dependencies(ctx: PlanContext) -> None:
    guard_repointing(ctx)
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


def guard_repointing(ctx: PlanContext) -> None:
    """A service whose env points at a duplicate database odplan does not manage would have
    its connection variables rewritten onto the managed one: refused without --allow-data-loss
    (the data the service wrote stays behind in the other database)."""
    for key, strays in sorted(ctx.observed.dependency_strays.items()):
        live = ctx.observed.dependencies.get(key)
        if live is None or key not in ctx.desired.dependencies:
            continue
        for name, dependency_id in sorted(strays.items()):
            svc = ctx.desired.services.get(name)
            if svc is None or key not in svc.uses:
                continue
            summary = (
                f"service.{name} uses database {dependency_id}, a second live {key!r}; "
                f"applying would point it at {live.id}, the one odplan manages"
            )
            detail = (
                f"The data service.{name} wrote stays in {dependency_id}. Move it and delete "
                f"one of the two databases, or pass --allow-data-loss to re-point service.{name}."
            )
            if ctx.options.allow_data_loss:
                ctx.warning(addr.service(name), summary, detail)
            else:
                ctx.error(addr.service(name), summary, detail)
