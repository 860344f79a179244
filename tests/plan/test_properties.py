"""Invariants of the planner over generated desired states (hypothesis)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from opendeploy_plan.plan import ActionKind, DesiredState, make_plan, plan_json
from opendeploy_plan.render import render_human, render_markdown
from opendeploy_plan.state.model import ObservedState
from tests.plan.perfect_apply import observed_after_apply
from tests.plan.strategies import desired_states

# `make mutation` runs these once per mutant: it asks for fewer examples (see
# scripts/mutation.py); the suite keeps 60.
EXAMPLES = int(os.environ.get("ODPLAN_HYPOTHESIS_EXAMPLES", "60"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(desired_states())
def test_against_nothing_live_everything_is_created_once(desired: DesiredState) -> None:
    plan = make_plan(desired, ObservedState.empty())
    assert not plan.errors
    kinds = {a.address: a.kind for a in plan.actions}
    assert kinds.pop("project") is ActionKind.CREATE
    assert kinds.pop("project.source") is ActionKind.BIND_SOURCE
    for key in desired.dependencies:
        assert kinds.pop(f"dependency.{key}") is ActionKind.CREATE
    for name, svc in desired.services.items():
        assert kinds.pop(f"service.{name}") is ActionKind.CREATE
        assert kinds.pop(f"service.{name}.deployment") is ActionKind.DEPLOY
        if svc.subdomain:
            assert kinds.pop(f"service.{name}.domain") is ActionKind.RENAME_DOMAIN
    assert kinds == {}, "nothing else: no env PUT for a service created with its env"
    position = {a.address: i for i, a in enumerate(plan.actions)}
    for action in plan.actions:
        assert all(position[need] < position[action.address] for need in action.depends_on)
    for name, svc in desired.services.items():
        deploy = plan.action(f"service.{name}.deployment")
        assert deploy is not None and "project.source" in deploy.depends_on
        for sibling in svc.after:
            assert f"service.{sibling}.deployment" in deploy.depends_on


@FAST
@given(desired_states())
def test_apply_then_plan_is_empty(desired: DesiredState) -> None:
    plan = make_plan(desired, observed_after_apply(desired))
    assert plan.actions == ()
    assert not plan.diagnostics
    assert not plan.notes
    assert plan.detailed_exit_code == 0
    assert "No changes." in render_human(plan)


@FAST
@given(desired_states())
def test_no_secret_reaches_any_view(desired: DesiredState) -> None:
    plan = make_plan(desired, ObservedState.empty())
    text = plan_json(plan) + render_human(plan) + render_markdown(plan)
    assert "canary-" not in text


@FAST
@given(desired_states(), st.data())
def test_a_new_subfolder_digest_redeploys_exactly_that_service(
    desired: DesiredState, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(desired.services)))
    observed = observed_after_apply(desired)
    changed = desired.model_copy(
        update={
            "source": desired.source.model_copy(update={"digest": "sha256:new-archive"}),
            "services": {
                **desired.services,
                name: desired.services[name].model_copy(update={"source_digest": "sha256:new"}),
            },
        }
    )
    plan = make_plan(changed, observed)
    assert [(a.address, a.kind) for a in plan.actions] == [
        ("project.source", ActionKind.BIND_SOURCE),
        (f"service.{name}.deployment", ActionKind.DEPLOY),
    ]


@FAST
@given(desired_states(), st.data())
def test_a_live_env_edit_is_undone_by_one_env_update_and_one_deploy(
    desired: DesiredState, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(desired.services)))
    observed = observed_after_apply(desired)
    live = observed.services[name]
    edited = live.model_copy(update={"env": {**live.env, "EDITED_IN_DASHBOARD": SecretStr("1")}})
    observed = observed.model_copy(update={"services": {**observed.services, name: edited}})
    plan = make_plan(desired, observed)
    if desired.services[name].env_policy == "merge":
        assert plan.actions == ()
        return
    assert [(a.address, a.kind) for a in plan.actions] == [
        (f"service.{name}.env", ActionKind.UPDATE),
        (f"service.{name}.deployment", ActionKind.DEPLOY),
    ]
    env_update = plan.actions[0]
    assert [c.path for c in env_update.changes] == ["env.EDITED_IN_DASHBOARD"]
