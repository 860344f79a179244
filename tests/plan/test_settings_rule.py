"""One rule for "this service setting is what the manifest asks for" (`plan.settings_diff`).

Before issue 18 the planner (plan/diff.py) and apply's read-back (apply/executor.py
`_same_setting`) each had a rule, and they disagreed on the cases below: the planner showed a
perpetual diff where the read-back passed, or the read-back failed a value the gateway kept
while the planner called it equal. Each case is pinned here for the function and for the plan.
"""

from __future__ import annotations

from typing import Any

import pytest

from opendeploy_plan.plan import (
    DesiredService,
    DesiredSource,
    DesiredState,
    make_plan,
    same_setting,
    settings_diff,
)
from opendeploy_plan.state.model import ObservedState
from tests.plan.perfect_apply import observed_after_apply

# (field, what the manifest asks for, what the gateway holds): equal under the one rule.
# The comment names the old rule that said "different".
DISAGREED = [
    # old planner: "" != None, a perpetual update (the read-back read "" as empty: equal)
    pytest.param("build_command", "", None, id="empty-text-is-unset"),
    # old read-back: a quantity that does not parse never matched, even echoed back unchanged
    # (the planner compared it as text: equal)
    pytest.param("cpu_limit", "2 cores", "2 cores", id="unparsable-quantity-echoed"),
    # old read-back: sorted lists, so a repeated sibling failed (the planner: sets, equal)
    pytest.param("dependencies", ["api"], ["api", "api"], id="repeated-sibling"),
    # old planner: the manifest's path was not normalized ("./api" vs the gateway's "api")
    pytest.param("source_path", "./api", "api", id="dot-slash-source-path"),
]


@pytest.mark.parametrize(("name", "want", "live"), DISAGREED)
def test_cases_the_two_old_rules_disagreed_on_are_equal(name: str, want: Any, live: Any) -> None:
    assert same_setting(name, want, live)
    assert settings_diff({name: want}, {name: live}) == ()


@pytest.mark.parametrize(
    ("name", "want", "live", "equal"),
    [
        ("cpu_limit", "1", "1000m", True),
        ("cpu_limit", "1", 1, True),
        ("cpu_limit", "500m", "1", False),
        ("memory_limit", "1Gi", "1024Mi", True),
        ("memory_limit", "1Gi", "1G", False),
        ("cpu_limit", "2 cores", "3 cores", False),
        ("replicas", 1, None, True),
        ("replicas", 2, None, False),
        ("replicas", 1, "", True),
        ("auto_scaling", False, None, True),
        ("auto_scaling", True, None, False),
        ("internal_only", False, "", True),
        ("port", 8080, 8080, True),
        ("port", 8080, None, False),
        ("port", 8080, 8081, False),
        ("source_path", ".", "", True),
        ("source_path", ".", None, True),
        ("source_path", "api", "web", False),
        ("dependencies", ["b", "a"], ["a", "b"], True),
        ("dependencies", ["a"], [], False),
        ("build_command", "make", "make", True),
        ("build_command", "make", None, False),
    ],
)
def test_one_rule(name: str, want: Any, live: Any, equal: bool) -> None:
    assert same_setting(name, want, live) is equal
    assert same_setting(name, live, want) is equal  # symmetric: both sides normalized alike


def test_settings_diff_names_the_differing_fields_sorted_and_counts_missing_as_empty() -> None:
    desired = {"port": 8080, "replicas": 3, "cpu_limit": "1", "replicas_default": None}
    live = {"port": 8081, "cpu_limit": "1000m"}
    assert settings_diff(desired, live) == ("port", "replicas")
    assert settings_diff({"replicas": 1}, {}) == ()


def _desired(**settings: Any) -> DesiredState:
    return DesiredState(
        project="shop",
        source=DesiredSource(digest="odsrc1:abc"),
        services={"web": DesiredService(type="web", port=8080, **settings)},
    )


def _live_with(desired: DesiredState, **fields: Any) -> ObservedState:
    observed = observed_after_apply(desired)
    web = observed.services["web"].model_copy(update=fields)
    return observed.model_copy(update={"services": {"web": web}})


@pytest.mark.parametrize(
    ("manifest", "live"),
    [
        ({"build_command": ""}, {"build_command": None}),
        ({"cpu_limit": "2 cores"}, {"cpu_limit": "2 cores"}),
        ({"source_path": "./api"}, {"source_path": "api"}),
        ({"after": ("api",)}, {"dependencies": ("api", "api")}),
        ({"cpu_limit": "1"}, {"cpu_limit": "1000m"}),
        ({"replicas": 1}, {"replicas": None}),
    ],
)
def test_the_planner_plans_nothing_where_the_rule_says_equal(
    manifest: dict[str, Any], live: dict[str, Any]
) -> None:
    desired = _desired(**manifest)
    if "after" in manifest:
        desired = desired.model_copy(
            update={"services": {**desired.services, "api": DesiredService(type="web")}}
        )
    plan = make_plan(desired, _live_with(desired, **live))
    assert plan.action("service.web") is None
    assert plan.action("service.web.deployment") is None


def test_the_planner_updates_where_the_rule_says_different() -> None:
    desired = _desired(cpu_limit="500m", build_command="make")
    plan = make_plan(desired, _live_with(desired, cpu_limit="1", build_command=None))
    action = plan.action("service.web")
    assert action is not None
    assert [c.path for c in action.changes] == ["build_command", "cpu_limit"]
