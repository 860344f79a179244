"""The destroy plan: delete what the manifest manages, keeping data unless told otherwise.

Without `allow_data_loss` only the manifest's services go (their domains go with them); the
project and its databases stay, and the plan says so. With it, the services go, then each
database as its own action (the documented `DELETE /dependencies/:pid/:did`, so every database
is a line of the plan, counted in its summary and read back), then the project. Pure, like
`make_plan`.
"""

from __future__ import annotations

from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.desired import DesiredState
from opendeploy_plan.plan.fingerprint import combine, fingerprint_parts
from opendeploy_plan.plan.graph import ActionGraph
from opendeploy_plan.plan.model import (
    ActionKind,
    ActionReason,
    AttributeChange,
    ChangeKind,
    Plan,
    PlannedAction,
    PlanNote,
    PlanOptions,
)
from opendeploy_plan.state.model import ObservedState


def make_destroy_plan(desired: DesiredState, observed: ObservedState, options: PlanOptions) -> Plan:
    """Delete the manifest's live services; with `options.allow_data_loss`, then the project."""
    graph = ActionGraph()
    actions: list[PlannedAction] = []
    notes: list[PlanNote] = []
    project = observed.project
    if project is not None:
        services = sorted(name for name in desired.services if name in observed.services)
        for name in services:
            live = observed.services[name]
            changes = [AttributeChange("type", ChangeKind.REMOVE, live.type, None)]
            if live.domain is not None:
                changes.append(
                    AttributeChange("domain", ChangeKind.REMOVE, live.domain.domain, None)
                )
            actions.append(
                PlannedAction(
                    addr.service(name), ActionKind.DELETE, ActionReason.DESTROY, tuple(changes)
                )
            )
            graph.add_node(addr.service(name))
        others = sorted(set(observed.services) - set(desired.services))
        databases = sorted(observed.dependencies)
        shared = project.other_environment_rows
        if options.allow_data_loss:
            # Each database is its own line (deleted and read back one by one, counted in the
            # summary), after the services that use it: data loss is never folded into
            # another line. The project goes last, unless it also holds another environment.
            needs = tuple(addr.service(name) for name in services)
            for key, dep in sorted(observed.dependencies.items()):
                address = addr.dependency(key)
                kind = dep.type or _manifest_type(desired, key)
                gone = (AttributeChange("type", ChangeKind.REMOVE, kind, None),)
                actions.append(
                    PlannedAction(address, ActionKind.DELETE, ActionReason.DESTROY, gone, needs)
                )
                graph.add_node(address)
                graph.add_edges_from((need, address) for need in needs)
        if options.allow_data_loss and shared:
            notes.append(
                PlanNote(
                    addr.PROJECT,
                    "kept: the project, which also holds " + ", ".join(shared),
                )
            )
        elif options.allow_data_loss:
            removed = [AttributeChange("name", ChangeKind.REMOVE, project.name, None)]
            removed += [
                AttributeChange(f"service.{name}", ChangeKind.REMOVE, "unmanaged", None)
                for name in others
            ]
            needs = tuple(addr.service(name) for name in services) + tuple(
                addr.dependency(key) for key in databases
            )
            actions.append(
                PlannedAction(
                    addr.PROJECT, ActionKind.DELETE, ActionReason.DESTROY, tuple(removed), needs
                )
            )
            graph.add_node(addr.PROJECT)
            graph.add_edges_from((need, addr.PROJECT) for need in needs)
            if others:
                notes.append(
                    PlanNote(
                        addr.PROJECT,
                        "deleting the project also deletes services the manifest does not "
                        "manage: " + ", ".join(others),
                    )
                )
        else:
            kept = ["the project"] + [f"dependency.{key}" for key in databases]
            notes.append(
                PlanNote(
                    addr.PROJECT,
                    "kept: " + ", ".join(kept) + " (pass --allow-data-loss to delete the "
                    "project and its databases)",
                )
            )
    parts = fingerprint_parts(observed, options.salt)
    return Plan(
        project=desired.project,
        environment=desired.environment,
        actions=tuple(actions),
        graph=graph,
        options=options,
        fingerprint=combine(parts, options.salt),
        fingerprint_parts=parts,
        secret_hashes={},
        source_digest=desired.source.digest,
        notes=tuple(notes),
    )


def _manifest_type(desired: DesiredState, key: str) -> str:
    """The type the manifest gives database `key` (documented rows do not carry one)."""
    wanted = desired.dependencies.get(key)
    return wanted.type if wanted is not None else "database"
