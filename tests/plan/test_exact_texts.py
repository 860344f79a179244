"""Exact texts and counts the mutation run found unpinned: diagnostics' details, the order of
notes, destroy reasons and lists, and what moves the deployment fingerprint."""

from __future__ import annotations

import pytest

from opendeploy_plan.plan import (
    ActionKind,
    ActionReason,
    DesiredDependency,
    DesiredService,
    DesiredSource,
    DesiredState,
    DesiredValue,
    PlannedAction,
    PlanOptions,
    PlanSummary,
    make_plan,
)
from opendeploy_plan.plan.destroy import make_destroy_plan
from opendeploy_plan.plan.fingerprint import fingerprint_parts
from opendeploy_plan.plan.model import summarize
from opendeploy_plan.state.model import ObservedService, ObservedState
from tests.plan.perfect_apply import observed_after_apply

TWO = DesiredState(
    project="shop",
    source=DesiredSource(digest="odsrc1:abc"),
    dependencies={"db": DesiredDependency(type="postgres")},
    services={"a": DesiredService(type="web", port=1), "b": DesiredService(type="web", port=2)},
)


def test_two_binds_count_two_uploads() -> None:
    binds = tuple(
        PlannedAction(f"p{i}", ActionKind.BIND_SOURCE, ActionReason.NEW) for i in range(2)
    )
    assert summarize(binds) == PlanSummary(upload=2)


def test_cycle_and_targeting_diagnostics_in_full() -> None:
    desired = TWO.model_copy(
        update={
            "services": {
                "a": DesiredService(type="web", port=1, after=("b",)),
                "b": DesiredService(type="web", port=2, after=("a",)),
            }
        }
    )
    plan = make_plan(desired, ObservedState.empty())
    cycle = next(e for e in plan.errors if "cycle" in e.summary)
    assert cycle.detail == "Check the services' after: lists for a loop."
    assert cycle.summary in (
        "the actions form a cycle: service.a.deployment -> service.b.deployment",
        "the actions form a cycle: service.b.deployment -> service.a.deployment",
    )
    targeted = make_plan(TWO, ObservedState.empty(), PlanOptions(target=("service.a",)))
    warning = next(w for w in targeted.warnings if w.summary == "resource targeting is in effect")
    assert warning.detail == (
        "The plan may be incomplete: skipped dependency.db, service.b, service.b.deployment. "
        "Run a full plan afterwards to converge."
    )
    nothing = make_plan(TWO, ObservedState.empty(), PlanOptions(exclude=("service.nope",)))
    assert [w.detail for w in nothing.warnings if w.summary.startswith("resource targeting")] == [
        "The plan may be incomplete: nothing was skipped. Run a full plan afterwards to converge."
    ]


def test_notes_come_sorted_by_address() -> None:
    live = observed_after_apply(TWO)
    services = {
        name: svc.model_copy(
            update={
                "deployments": tuple(
                    d.model_copy(update={"description": "by hand"}) for d in svc.deployments
                )
            }
        )
        for name, svc in live.services.items()
    }
    plan = make_plan(TWO, live.model_copy(update={"services": services}))
    assert [n.address for n in plan.notes] == ["service.a.deployment", "service.b.deployment"]


def test_a_settings_change_from_an_empty_live_field_shows_none() -> None:
    live = observed_after_apply(TWO)
    a = live.services["a"].model_copy(update={"port": None})
    plan = make_plan(TWO, live.model_copy(update={"services": {**live.services, "a": a}}))
    action = plan.action("service.a")
    assert action is not None
    assert [(c.path, c.before, c.after) for c in action.changes] == [("port", None, 1)]


def test_literal_text_refuses_secrets_by_saying_so() -> None:
    with pytest.raises(ValueError) as error:
        DesiredValue.secret("k", "v").literal_text()
    assert str(error.value) == "value is not a literal"


def test_deployment_description_and_time_move_the_fingerprint() -> None:
    live = observed_after_apply(TWO)
    a = live.services["a"]
    before = fingerprint_parts(live, b"k")["service.a.deployment"]
    for update in ({"description": "other"}, {"created_at": "2030-01-01T00:00:00Z"}):
        deployment = a.deployments[0].model_copy(update=update)
        changed = live.model_copy(
            update={
                "services": {
                    **live.services,
                    "a": a.model_copy(update={"deployments": (deployment,)}),
                }
            }
        )
        assert fingerprint_parts(changed, b"k")["service.a.deployment"] != before


def test_destroy_reasons_and_lists() -> None:
    live = observed_after_apply(TWO)
    extra = {
        "x": ObservedService(id="s-x", type="web", environment="production"),
        "y": ObservedService(id="s-y", type="web", environment="production"),
    }
    whole = make_destroy_plan(
        TWO,
        live.model_copy(update={"services": {**live.services, **extra}}),
        PlanOptions(allow_data_loss=True),
    )
    project = whole.action("project")
    assert project is not None and project.reason is ActionReason.DESTROY
    assert [(n.address, n.message) for n in whole.notes] == [
        (
            "project",
            "deleting the project also deletes services the manifest does not manage: x, y",
        )
    ]
    assert live.project is not None
    shared_project = live.project.model_copy(
        update={"other_environment_rows": ("service.a (staging)", "dependency.db (staging)")}
    )
    shared = make_destroy_plan(
        TWO,
        live.model_copy(update={"project": shared_project}),
        PlanOptions(allow_data_loss=True),
    )
    db = shared.action("dependency.db")
    assert db is not None and db.reason is ActionReason.DESTROY
    assert [n.message for n in shared.notes] == [
        "kept: the project, which also holds service.a (staging), dependency.db (staging)"
    ]
