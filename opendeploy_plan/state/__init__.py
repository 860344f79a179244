"""State: what the gateway says is live (pure models in `model.py`, the gateway reads in
`refresh.py`, imported from there so that importing the models pulls in no client)."""

from __future__ import annotations

from opendeploy_plan.state.model import (
    ObservedDependency,
    ObservedDeployment,
    ObservedDomain,
    ObservedProject,
    ObservedService,
    ObservedState,
    parse_timestamp,
    timestamp_order,
)

__all__ = [
    "ObservedDependency",
    "ObservedDeployment",
    "ObservedDomain",
    "ObservedProject",
    "ObservedService",
    "ObservedState",
    "parse_timestamp",
    "timestamp_order",
]
