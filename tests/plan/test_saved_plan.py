"""Saved plans: what `odplan plan --out` writes and what apply checks before trusting it."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from opendeploy_plan.plan import (
    DesiredState,
    DesiredValue,
    Plan,
    PlanOptions,
    SavedPlanError,
    load_plan,
    make_plan,
    new_salt,
    save_plan,
)
from opendeploy_plan.state.model import ObservedState
from tests.plan.golden import CASES_DIR, GoldenCase, load_case

CANARY = "sk-canary-0f7c1e"


def _case(name: str) -> GoldenCase:
    return load_case(next(CASES_DIR.glob(f"*{name}.json")))


def _with_canary() -> tuple[DesiredState, ObservedState]:
    case = _case("empty_project_creates_everything")
    web = case.desired.services["web"]
    env = {**web.env, "API_KEY": DesiredValue.secret("api_key", CANARY)}
    desired = case.desired.model_copy(
        update={"services": {"web": web.model_copy(update={"env": env})}}
    )
    return desired, case.observed


def _saved(desired: DesiredState, observed: ObservedState) -> tuple[Plan, bytes]:
    plan = make_plan(desired, observed, PlanOptions(salt=new_salt()))
    data = save_plan(plan, manifest_digest="sha256:m1", gateway="local")
    return plan, data


def test_a_saved_plan_round_trips_and_matches_a_re_plan() -> None:
    desired, observed = _with_canary()
    plan, data = _saved(desired, observed)
    saved = load_plan(data)
    assert saved.manifest_digest == "sha256:m1" and saved.gateway == "local"
    assert [a.address for a in saved.actions] == list(plan.addresses())
    again = make_plan(desired, observed, saved.plan_options())
    assert saved.matches(again)
    assert saved.stale_addresses(observed) == []
    assert saved.changed_secrets(desired) == []


def test_the_saved_bytes_never_contain_a_secret_value() -> None:
    desired, observed = _with_canary()
    _, data = _saved(desired, observed)
    assert CANARY.encode() not in data
    hashes = json.loads(data)["secret_hashes"]
    assert set(hashes) == {"service.web.env.API_KEY"}
    assert hashes["service.web.env.API_KEY"].startswith("hmac-sha256:")


def test_a_rotated_secret_is_refused_by_name() -> None:
    desired, observed = _with_canary()
    _, data = _saved(desired, observed)
    web = desired.services["web"]
    rotated = {**web.env, "API_KEY": DesiredValue.secret("api_key", CANARY + "-rotated")}
    changed = desired.model_copy(
        update={"services": {"web": web.model_copy(update={"env": rotated})}}
    )
    assert load_plan(data).changed_secrets(changed) == ["service.web.env.API_KEY (secret api_key)"]


def test_live_changes_since_planning_make_the_plan_stale() -> None:
    case = _case("no_changes")
    _, data = _saved(case.desired, case.observed)
    web = case.observed.services["web"]
    env = {**web.env, "LOG_LEVEL": SecretStr("debug")}
    drifted = case.observed.model_copy(
        update={"services": {"web": web.model_copy(update={"env": env})}}
    )
    assert load_plan(data).stale_addresses(drifted) == ["service.web.env"]
    assert load_plan(data).stale_addresses(ObservedState.empty()) != []


def test_plan_changes_since_lists_the_same_addresses() -> None:
    case = _case("no_changes")
    plan = make_plan(case.desired, case.observed, PlanOptions(salt=b"s"))
    assert plan.changes_since(case.observed) == []
    without_db = case.observed.model_copy(update={"dependencies": {}})
    assert plan.changes_since(without_db) == ["dependency.db"]


def test_a_plan_without_salt_or_with_errors_cannot_be_saved() -> None:
    case = _case("no_changes")
    unsalted = make_plan(case.desired, case.observed)
    with pytest.raises(ValueError, match="salt"):
        save_plan(unsalted, manifest_digest="m", gateway="g")
    broken = _case("region_mismatch_is_an_error")
    erroneous = make_plan(broken.desired, broken.observed, PlanOptions(salt=b"s"))
    with pytest.raises(ValueError, match="errors"):
        save_plan(erroneous, manifest_digest="m", gateway="g")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe", "invalid JSON"),
        (b"[]", "not an odplan saved plan"),
        (b'{"kind": "odplan-saved-plan", "format_version": 99}', "format_version 99"),
        (b'{"kind": "odplan-saved-plan", "format_version": 1}', "corrupt"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(SavedPlanError, match=message):
        load_plan(data)
