"""What every rule set shares while one plan is made: the inputs and the drafts found so far.

A rule reads `desired`, `observed` and `options` and adds `Draft`s (an action before the graph
step gives it its edges and order), diagnostics and notes. Only the planner's run mutates a
`PlanContext`, and only for the length of one `make_plan` call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import SecretStr

from opendeploy_plan.diagnostics import Diagnostic
from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.desired import DesiredState
from opendeploy_plan.plan.diff import unread_dependency_env
from opendeploy_plan.plan.model import (
    ActionKind,
    ActionReason,
    AttributeChange,
    ChangeKind,
    DisplayValue,
    PlanNote,
    PlanOptions,
)
from opendeploy_plan.state.model import ObservedState

__all__ = ["Draft", "PlanContext", "adds", "short_digest"]


def short_digest(digest: str | None) -> str:
    """`sha256:1f2e3d4c5b6a` (12 hex) for display; digests are not secret."""
    if not digest:
        return "(none)"
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:12]}" if hexpart else digest[:19]


@dataclass
class Draft:
    """An action being planned; `wants` are the addresses it needs first (edges, if planned)."""

    address: str
    kind: ActionKind
    reason: ActionReason
    changes: list[AttributeChange] = field(default_factory=list)
    wants: set[str] = field(default_factory=set)
    detail: str | None = None
    waits_for: str | None = None


def adds(values: dict[str, object]) -> list[AttributeChange]:
    """`ADD` changes for the values that are set (empty values and lists are left out)."""
    out: list[AttributeChange] = []
    for name, value in values.items():
        if value is None or value == [] or value == ():
            continue
        shown: DisplayValue = list(value) if isinstance(value, tuple | list) else value  # type: ignore[assignment]
        out.append(AttributeChange(name, ChangeKind.ADD, None, shown))
    return out


class PlanContext:
    """The inputs of one plan and what the rules found so far."""

    def __init__(self, desired: DesiredState, observed: ObservedState, options: PlanOptions):
        self.desired = desired
        self.observed = observed
        self.options = options
        self.drafts: dict[str, Draft] = {}
        self.diagnostics: list[Diagnostic] = []
        self.notes: list[PlanNote] = []
        self.unmanaged: list[str] = []
        # Dependencies being created or replaced: their env_vars are known after apply only.
        self.pending_deps: set[str] = set()
        self.replace = {addr.canonical(a) for a in options.replace}
        self.redeploy = {addr.canonical(a) for a in options.redeploy}

    def error(self, address: str, summary: str, detail: str = "") -> None:
        self.diagnostics.append(Diagnostic("", 0, 0, "error", address, summary, detail))

    def warning(self, address: str, summary: str, detail: str = "") -> None:
        self.diagnostics.append(Diagnostic("", 0, 0, "warning", address, summary, detail))

    def note(self, address: str, message: str) -> None:
        self.notes.append(PlanNote(address, message))

    def add(self, draft: Draft) -> Draft:
        self.drafts[draft.address] = draft
        return draft

    def gate_data_loss(self, address: str, verb: str) -> None:
        if not self.options.allow_data_loss:
            self.error(
                address,
                f"{verb} {address} would destroy its data",
                "Databases are only deleted or replaced with --allow-data-loss. Back the data "
                "up first, or keep the dependency as it is.",
            )

    def dependency_env(self) -> dict[str, dict[str, SecretStr]]:
        """The live `env_vars` of the dependencies that stay as they are; those the gateway
        did not show are taken from the services' live env (`unread_dependency_env`)."""
        kept = {
            key: dep
            for key, dep in self.observed.dependencies.items()
            if key not in self.pending_deps
        }
        return unread_dependency_env(
            {key: dep.env_vars for key, dep in kept.items() if dep.env_vars},
            [key for key, dep in kept.items() if not dep.env_vars],
            {name: (svc.env, svc.uses) for name, svc in self.desired.services.items()},
            {name: svc.env for name, svc in self.observed.services.items()},
            types={key: dep.type for key, dep in self.desired.dependencies.items()},
        )

    def provided_by_pending(self, uses: Iterable[str]) -> dict[str, str]:
        """`{live key: dependency}` for the keys a pending dependency in `uses` provides."""
        provided: dict[str, str] = {}
        for dep in uses:
            live = self.observed.dependencies.get(dep)
            if dep in self.pending_deps and live is not None:
                provided.update({k: dep for k in live.env_vars})
        return provided
