"""The summary line and exit codes people and CI read (Terraform-style counting)."""

from __future__ import annotations

import pytest

from opendeploy_plan.plan import (
    ActionKind,
    ActionReason,
    DesiredService,
    DesiredSource,
    DesiredState,
    PlannedAction,
    PlanOptions,
    PlanSummary,
    make_plan,
)
from opendeploy_plan.plan.model import summarize
from opendeploy_plan.state.model import ObservedState
from tests.plan.perfect_apply import observed_after_apply


def _actions(*kinds: ActionKind) -> tuple[PlannedAction, ...]:
    return tuple(
        PlannedAction(f"service.s{i}", kind, ActionReason.NEW) for i, kind in enumerate(kinds)
    )


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ((), PlanSummary(0, 0, 0, 0, 0, 0)),
        ((ActionKind.CREATE,), PlanSummary(create=1)),
        ((ActionKind.CREATE, ActionKind.CREATE), PlanSummary(create=2)),
        ((ActionKind.REPLACE,), PlanSummary(create=1, destroy=1)),
        ((ActionKind.REPLACE, ActionKind.REPLACE), PlanSummary(create=2, destroy=2)),
        ((ActionKind.DELETE, ActionKind.DELETE), PlanSummary(destroy=2)),
        ((ActionKind.DEPLOY, ActionKind.DEPLOY), PlanSummary(deploy=2)),
        ((ActionKind.WAIT, ActionKind.WAIT), PlanSummary(wait=2)),
        ((ActionKind.BIND_SOURCE,), PlanSummary(upload=1)),
        ((ActionKind.UPDATE, ActionKind.RENAME_DOMAIN), PlanSummary(update=2)),
        (
            (
                ActionKind.CREATE,
                ActionKind.UPDATE,
                ActionKind.REPLACE,
                ActionKind.DELETE,
                ActionKind.BIND_SOURCE,
                ActionKind.DEPLOY,
                ActionKind.RENAME_DOMAIN,
                ActionKind.WAIT,
            ),
            PlanSummary(create=2, update=2, destroy=2, deploy=1, wait=1, upload=1),
        ),
    ],
)
def test_actions_are_counted_terraform_style(
    kinds: tuple[ActionKind, ...], expected: PlanSummary
) -> None:
    assert summarize(_actions(*kinds)) == expected


def test_the_summary_line() -> None:
    assert PlanSummary(3, 1, 0, 2).line() == (
        "Plan: 3 to create, 1 to update, 0 to destroy, 2 to deploy."
    )
    assert PlanSummary(0, 0, 1, 0, wait=2).line() == (
        "Plan: 0 to create, 0 to update, 1 to destroy, 0 to deploy, 2 to wait for."
    )


DESIRED = DesiredState(
    project="shop",
    source=DesiredSource(digest="odsrc1:abc"),
    services={"web": DesiredService(type="web", port=8080)},
)


def test_detailed_exit_codes() -> None:
    changes = make_plan(DESIRED, ObservedState.empty())
    assert changes.has_changes and changes.detailed_exit_code == 2
    assert changes.summary == PlanSummary(create=2, deploy=1, upload=1)
    none = make_plan(DESIRED, observed_after_apply(DESIRED))
    assert not none.has_changes and none.detailed_exit_code == 0
    broken = make_plan(DESIRED, ObservedState.empty(), PlanOptions(target=("nope",)))
    assert broken.errors and broken.detailed_exit_code == 1


def test_refresh_only_has_changes_only_with_drift() -> None:
    live = observed_after_apply(DESIRED)
    clean = make_plan(DESIRED, live, PlanOptions(refresh_only=True))
    assert clean.refresh_only and not clean.has_changes and clean.detailed_exit_code == 0
    web = live.services["web"].model_copy(update={"port": 9090})
    drifted = make_plan(
        DESIRED,
        live.model_copy(update={"services": {"web": web}}),
        PlanOptions(refresh_only=True),
    )
    assert drifted.actions == ()
    assert drifted.has_changes and drifted.detailed_exit_code == 2
    assert [a.address for a in drifted.drift] == ["service.web", "service.web.deployment"]
    assert drifted.drift[1].depends_on == ("service.web",)


def test_refresh_only_leaves_out_new_source_and_requested_redeploys() -> None:
    live = observed_after_apply(DESIRED)
    newer = DESIRED.model_copy(update={"source": DesiredSource(digest="odsrc1:new")})
    plan = make_plan(newer, live, PlanOptions(refresh_only=True, redeploy=("service.web",)))
    assert plan.drift == ()
    assert not plan.has_changes
    normal = make_plan(newer, live, PlanOptions(redeploy=("service.web",)))
    assert normal.addresses() == ("project.source", "service.web.deployment")
