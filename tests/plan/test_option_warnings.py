"""Planning flags that name nothing are reported, never silently ignored."""

from __future__ import annotations

from opendeploy_plan.plan import DesiredService, DesiredSource, DesiredState, PlanOptions, make_plan
from opendeploy_plan.state.model import ObservedState

DESIRED = DesiredState(
    project="shop",
    source=DesiredSource(digest="odsrc1:abc"),
    services={"web": DesiredService(type="web", port=8080)},
)


def test_a_target_that_matches_nothing_is_a_warning() -> None:
    plan = make_plan(DESIRED, ObservedState.empty(), PlanOptions(target=("service.nope",)))
    assert [w.summary for w in plan.warnings if w.path == "service.nope"] == [
        "--target 'service.nope' matches nothing in the manifest or live project"
    ]


def test_known_targets_and_excludes_raise_no_such_warning() -> None:
    options = PlanOptions(target=("service.web.deployment",), exclude=("project.source",))
    plan = make_plan(DESIRED, ObservedState.empty(), options)
    assert not [w for w in plan.warnings if "matches nothing" in w.summary]
