"""Applying a saved plan: read the plan file, re-plan with its options, refuse it when stale.

A saved plan is applied only when re-planning now gives the same actions from the same
manifest, gateway, environment, live state and secret values; otherwise apply refuses with
"Saved plan is stale" and what to do, as Terraform does.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from opendeploy_plan.engine.prepare import Prepared
from opendeploy_plan.errors import OdplanError
from opendeploy_plan.plan import PlanOptions, SavedPlan, SavedPlanError, load_plan

__all__ = [
    "PlanFileUnusable",
    "StalePlan",
    "check_saved_current",
    "check_saved_identity",
    "read_saved_plan",
    "saved_plan_options",
]

_REPLAN = "Run `odplan plan --out FILE` again."
_REVIEW = "Run `odplan plan --out FILE` again and review the new plan."


class PlanFileUnusable(OdplanError, ValueError):
    """The plan file cannot be read or decoded."""


class StalePlan(OdplanError):
    """The saved plan no longer describes what applying it now would do."""


def read_saved_plan(planfile: Path) -> SavedPlan:
    """The decoded plan file (raises `PlanFileUnusable`)."""
    try:
        saved = load_plan(planfile.read_bytes())
        saved.salt_bytes()  # a hand-edited salt is a bad file, not a traceback
        return saved
    except (OSError, ValueError, SavedPlanError) as exc:
        raise PlanFileUnusable(
            f"cannot use the plan file {planfile}: {exc}",
            "Make a new one with `odplan plan --out FILE`.",
        ) from exc


def saved_plan_options(saved: SavedPlan, *, guest: bool) -> PlanOptions:
    """The options the plan was made with (same salt); `guest` is what the gateway says now."""
    return dataclasses.replace(saved.plan_options(), guest=guest)


def check_saved_identity(saved: SavedPlan, prepared: Prepared, gateway: str) -> None:
    """Before any request: same manifest bytes, gateway and environment (raises `StalePlan`)."""
    problems = []
    if saved.manifest_digest != prepared.manifest_digest:
        problems.append(f"{prepared.manifest_path} changed since the plan was made")
    if saved.gateway.rstrip("/") != gateway.rstrip("/"):
        problems.append(f"the plan was made for {saved.gateway}, not {gateway}")
    if prepared.load.environment != saved.environment:
        problems.append(f"the plan is for {saved.environment}, not {prepared.load.environment}")
    if problems:
        raise StalePlan("Saved plan is stale: " + "; ".join(problems), _REPLAN)


def check_saved_current(saved: SavedPlan, prepared: Prepared) -> None:
    """After re-planning: same live state, secret values and actions (raises `StalePlan`)."""
    assert prepared.observed is not None and prepared.resolution is not None
    assert prepared.resolution.desired is not None and prepared.plan is not None
    stale = saved.stale_addresses(prepared.observed)
    if stale:
        raise StalePlan(
            "Saved plan is stale: the live state changed since it was made:\n  - "
            + "\n  - ".join(stale),
            _REVIEW,
        )
    secrets = saved.changed_secrets(prepared.resolution.desired)
    if secrets:
        raise StalePlan(
            "Saved plan is stale: these secret values changed since it was made:\n  - "
            + "\n  - ".join(secrets),
            "Run `odplan plan --out FILE` again with the secrets you mean to deploy.",
        )
    if not saved.matches(prepared.plan):
        raise StalePlan("Saved plan is stale: planning again now gives different actions", _REVIEW)
