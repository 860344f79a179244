"""The guest caps at their exact edges (second mutation audit, issue 19; plan.rules.checks):
1 vCPU and 1 GiB per service are allowed, one millicore or one MiB more is refused (the gateway
answers `403 guest_quota_exceeded`), and only for an unbound guest credential."""

from __future__ import annotations

import pytest

from opendeploy_plan.plan import (
    DesiredService,
    DesiredSource,
    DesiredState,
    PlanOptions,
    make_plan,
)
from opendeploy_plan.state.model import ObservedState


def _cap_errors(guest: bool = True, **resources: str | int) -> list[str]:
    desired = DesiredState(
        project="shop",
        source=DesiredSource(digest="odsrc1:abc"),
        services={"web": DesiredService(type="web", port=8080, **resources)},
    )
    plan = make_plan(desired, ObservedState.empty(), PlanOptions(guest=guest))
    return [d.summary for d in plan.errors if "guest cap" in d.summary]


@pytest.mark.parametrize(
    "resources",
    [
        {"cpu_limit": "1"},
        {"cpu_limit": "1000m"},
        {"memory_limit": "1Gi"},
        {"memory_limit": "1024Mi"},
        {"replicas": 1},
        {"cpu_limit": "1", "memory_limit": "1Gi", "replicas": 1},
    ],
)
def test_exactly_at_the_guest_caps_is_allowed(resources: dict[str, str | int]) -> None:
    assert _cap_errors(**resources) == []


@pytest.mark.parametrize(
    ("resources", "summary"),
    [
        ({"cpu_limit": "1001m"}, "cpu limit 1001m exceeds the guest cap of 1 vCPU"),
        ({"memory_limit": "1025Mi"}, "memory limit 1025Mi exceeds the guest cap of 1Gi"),
        ({"replicas": 2}, "2 replicas exceed the guest cap of 1"),
    ],
)
def test_just_past_a_guest_cap_is_refused(resources: dict[str, str | int], summary: str) -> None:
    assert _cap_errors(**resources) == [summary]
    assert _cap_errors(guest=False, **resources) == []
