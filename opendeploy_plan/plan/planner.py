"""The pure planner: `make_plan(desired, observed, options) -> Plan`. No I/O, clock or randomness.

Rules (see docs/plan.md for the full table), one module per resource in `rules/`: project →
dependencies → services (env pre-merged with the `env_vars` of the dependencies they `use`) →
one source bind per project → deployments (after their `after:` siblings) → wait → auto-domain
rename → prune. Then the graph step (`graph.py`) links the actions, applies `--target` /
`--exclude` and orders them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace as with_changes

from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan import graph as plan_graph
from opendeploy_plan.plan.desired import DesiredState
from opendeploy_plan.plan.fingerprint import combine, fingerprint_parts
from opendeploy_plan.plan.model import ActionKind, ActionReason, Plan, PlannedAction, PlanOptions
from opendeploy_plan.plan.rules import (
    PlanContext,
    check_duplicate_dependencies,
    check_guest_caps,
    check_option_addresses,
    check_references,
    plan_dependencies,
    plan_domain,
    plan_first_deployment,
    plan_new_domain,
    plan_new_service,
    plan_project,
    plan_redeployment,
    plan_service_row,
    plan_source_bind,
    plan_unmanaged,
    service_build_digest,
    service_config_digest,
    service_inputs,
    short_digest,
)
from opendeploy_plan.state.model import ObservedState

__all__ = [
    "RULES",
    "make_plan",
    "service_build_digest",
    "service_config_digest",
    "short_digest",
]

_DEFAULT_OPTIONS = PlanOptions()


def plan_services(ctx: PlanContext) -> None:
    """Per manifest service: its row and env, then its deployment, then its domain."""
    for name in sorted(ctx.desired.services):
        inputs = service_inputs(ctx, name, ctx.desired.services[name])
        live = inputs.live
        if live is None or inputs.is_new:
            plan_new_service(ctx, inputs)
            plan_first_deployment(ctx, inputs)
            plan_new_domain(ctx, inputs)
            continue
        row = plan_service_row(ctx, inputs, live)
        latest = plan_redeployment(ctx, inputs, live, row)
        plan_domain(ctx, inputs, live, latest)


# In order: the source bind looks at the deployments planned before it.
RULES: tuple[Callable[[PlanContext], None], ...] = (
    check_references,
    plan_project,
    plan_dependencies,
    plan_services,
    plan_unmanaged,
    plan_source_bind,
    check_option_addresses,
    check_duplicate_dependencies,
    check_guest_caps,
)


def make_plan(
    desired: DesiredState,
    observed: ObservedState,
    options: PlanOptions = _DEFAULT_OPTIONS,
) -> Plan:
    """Diff `desired` against `observed` into a `Plan`. Pure: same inputs, same plan."""
    ctx = PlanContext(desired, observed, options)
    for rule in RULES:
        rule(ctx)
    drafts = ctx.drafts
    kinds = {address: draft.kind for address, draft in drafts.items()}
    graph, cycle = plan_graph.link({a: d.wants for a, d in drafts.items()})
    if cycle is not None:
        ctx.error(
            addr.PROJECT,
            "the actions form a cycle: " + " -> ".join(cycle),
            "Check the services' after: lists for a loop.",
        )
    selection = plan_graph.select(graph, kinds, options.target, options.exclude)
    graph = selection.graph
    if selection.skipped is not None:
        skipped = selection.skipped
        ctx.warning(
            addr.PROJECT,
            "resource targeting is in effect",
            "The plan may be incomplete: "
            + (("skipped " + ", ".join(skipped)) if skipped else "nothing was skipped")
            + ". Run a full plan afterwards to converge.",
        )
    actions = tuple(
        PlannedAction(
            address=d.address,
            kind=d.kind,
            reason=d.reason,
            changes=tuple(d.changes),
            depends_on=tuple(sorted(graph.predecessors(d.address))),
            detail=d.detail,
            waits_for_deployment=d.waits_for,
        )
        for d in (drafts[a] for a in plan_graph.order(graph, kinds))
    )
    drift: tuple[PlannedAction, ...] = ()
    if options.refresh_only:
        drift = _drift(actions)
        actions = ()
        graph = plan_graph.ActionGraph()
    parts = fingerprint_parts(observed, options.salt)
    return Plan(
        project=desired.project,
        environment=desired.environment,
        actions=actions,
        graph=graph,
        options=options,
        fingerprint=combine(parts, options.salt),
        fingerprint_parts=parts,
        secret_hashes=secret_hashes(desired, options.salt),
        source_digest=desired.source.digest,
        diagnostics=tuple(sorted(set(ctx.diagnostics))),
        notes=tuple(sorted(set(ctx.notes), key=lambda n: (n.address, n.message))),
        unmanaged=tuple(sorted(ctx.unmanaged)),
        drift=drift,
    )


def _drift(actions: tuple[PlannedAction, ...]) -> tuple[PlannedAction, ...]:
    """Refresh-only: what a normal plan would do about live differences (not about the
    manifest's new source, nor a requested redeploy)."""
    kept = [
        a
        for a in actions
        if a.kind is not ActionKind.BIND_SOURCE
        and a.reason not in (ActionReason.SOURCE_CHANGED, ActionReason.REDEPLOY_REQUESTED)
    ]
    kept_addresses = {a.address for a in kept}
    return tuple(
        with_changes(a, depends_on=tuple(d for d in a.depends_on if d in kept_addresses))
        for a in kept
    )


def secret_hashes(desired: DesiredState, salt: bytes) -> dict[str, str]:
    """`{service.X.env.KEY: salted hash}` for every variable holding a secret: what a saved
    plan keeps to tell a rotated secret, never the value."""
    hashes: dict[str, str] = {}
    for name, svc in desired.services.items():
        for prefix, values in (("env", svc.env), ("build_env", svc.build_env)):
            for key, value in values.items():
                if value.has_secret:
                    hashes[f"service.{name}.{prefix}.{key}"] = value.salted_hash(salt)
    return dict(sorted(hashes.items()))
