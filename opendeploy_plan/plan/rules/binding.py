"""Rule for the project's source bind: one upload per project, before any deployment, and only
when a deployment is planned and the bound archive is not the manifest's source already."""

from __future__ import annotations

from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.model import (
    ActionKind,
    ActionReason,
    AttributeChange,
    ChangeKind,
    DisplayValue,
)
from opendeploy_plan.plan.rules.context import Draft, PlanContext, short_digest
from opendeploy_plan.plan.stamp import is_rollback, parse_stamp, same_digest
from opendeploy_plan.state.model import ObservedDeployment

__all__ = ["plan_source_bind"]


def _latest_project_deployment(ctx: PlanContext) -> ObservedDeployment | None:
    """The newest deployment that may have bound an archive: a rollback reuses an old build
    and never rebinds the project's source, so it says nothing about what is bound."""
    every = [
        d
        for s in ctx.observed.services.values()
        for d in s.deployments
        if not is_rollback(d.description)
    ]
    return max(every, key=ObservedDeployment.created_at_sort_key) if every else None


def plan_source_bind(ctx: PlanContext) -> None:
    if not any(d.kind is ActionKind.DEPLOY for d in ctx.drafts.values()):
        return
    project = ctx.observed.project
    bound: DisplayValue = None
    if project is None:
        reason = ActionReason.NEW_PROJECT
    elif not project.has_source:
        reason = ActionReason.PROJECT_HAS_NO_SOURCE
    else:
        latest = _latest_project_deployment(ctx)
        stamp = parse_stamp(latest.description) if latest else None
        if stamp is None:
            reason = ActionReason.SOURCE_UNKNOWN
            bound = "(unknown)"
        elif not same_digest(stamp.project_digest, ctx.desired.source.digest):
            reason = ActionReason.SOURCE_CHANGED
            bound = short_digest(stamp.project_digest)
        else:
            return
    source = ctx.desired.source
    after = short_digest(source.digest)
    if source.kind == "git":
        after = f"{source.git_url}@{source.branch or 'HEAD'} ({after})"
    kind = ChangeKind.ADD if bound is None else ChangeKind.CHANGE
    draft = ctx.add(
        Draft(
            addr.PROJECT_SOURCE,
            ActionKind.BIND_SOURCE,
            reason,
            [AttributeChange("source", kind, bound, after)],
        )
    )
    draft.wants.add(addr.PROJECT)
