"""The observed fingerprint a saved plan keeps, and the saved file's exact text and errors.

A fingerprint part must change exactly when what the planner reads at its address changes,
and its digest must stay the same across odplan versions for equal inputs (a plan saved by one
version is checked by another), so the canonical JSON is pinned here."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from pydantic import SecretStr

from opendeploy_plan.plan import (
    DesiredDependency,
    DesiredService,
    DesiredSource,
    DesiredState,
    PlanOptions,
    SavedPlanError,
    load_plan,
    make_plan,
    plan_json,
    save_plan,
)
from opendeploy_plan.plan.fingerprint import combine, fingerprint_parts, keyed_digest
from opendeploy_plan.state.model import ObservedState
from tests.plan.perfect_apply import observed_after_apply

SALT = b"salt"
DESIRED = DesiredState(
    project="shop",
    source=DesiredSource(digest="odsrc1:abc"),
    dependencies={"db": DesiredDependency(type="postgres")},
    services={"web": DesiredService(type="web", port=8080, uses=("db",), subdomain="shop")},
)


def test_keyed_digest_is_an_hmac_of_canonical_json() -> None:
    payload = {"b": 1, "a": [1, "x"], "c": {"z": None, "y": True}}
    canonical = '{"a":[1,"x"],"b":1,"c":{"y":true,"z":null}}'
    expected = hmac.new(SALT, canonical.encode(), hashlib.sha256).hexdigest()
    assert keyed_digest(SALT, payload) == expected
    assert keyed_digest(SALT, {"when": object}) == keyed_digest(SALT, {"when": str(object)})


def test_the_parts_cover_every_live_address() -> None:
    live = observed_after_apply(DESIRED)
    assert sorted(fingerprint_parts(live, SALT)) == [
        "dependency.db",
        "project",
        "service.web",
        "service.web.deployment",
        "service.web.domain",
        "service.web.env",
    ]
    assert fingerprint_parts(ObservedState.empty(), SALT) == {}


def _changed(live: ObservedState, **update: object) -> list[str]:
    before = fingerprint_parts(live, SALT)
    after = fingerprint_parts(live.model_copy(update=update), SALT)
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def test_each_part_moves_with_its_own_resource_only() -> None:
    live = observed_after_apply(DESIRED)
    assert live.project is not None
    project = live.project.model_copy(update={"description": "new"})
    assert _changed(live, project=project) == ["project"]
    db = live.dependencies["db"]
    rotated = db.model_copy(update={"env_vars": {**db.env_vars, "X": SecretStr("1")}})
    assert _changed(live, dependencies={"db": rotated}) == ["dependency.db"]
    failed = db.model_copy(update={"status": "failed"})
    assert _changed(live, dependencies={"db": failed}) == ["dependency.db"]
    web = live.services["web"]
    moved = web.model_copy(update={"port": 1})
    assert _changed(live, services={"web": moved}) == ["service.web"]
    build = web.model_copy(update={"build_variables": {"B": SecretStr("1")}})
    assert _changed(live, services={"web": build}) == ["service.web"]
    env = web.model_copy(update={"env": {"A": SecretStr("1")}})
    assert _changed(live, services={"web": env}) == ["service.web.env"]
    progress = web.deployments[0].model_copy(update={"progress": 50})
    assert (
        _changed(live, services={"web": web.model_copy(update={"deployments": (progress,)})}) == []
    )
    status = web.deployments[0].model_copy(update={"status": "failed"})
    status_web = web.model_copy(update={"deployments": (status,)})
    assert _changed(live, services={"web": status_web}) == ["service.web.deployment"]
    assert _changed(live, services={"web": web.model_copy(update={"domain": None})}) == [
        "service.web.domain"
    ]


def test_combine_is_order_independent_and_salted() -> None:
    parts = {"a": "1", "b": "2"}
    assert combine(parts, SALT) == combine({"b": "2", "a": "1"}, SALT)
    assert combine(parts, SALT).startswith("hmac-sha256:")
    assert combine(parts, SALT) != combine(parts, b"other")


def test_json_text_is_indented_by_two() -> None:
    plan = make_plan(DESIRED, ObservedState.empty(), PlanOptions(salt=SALT))
    assert plan_json(plan).startswith('{\n  "format_version": 1,\n  "project": "shop",')
    saved = save_plan(plan, manifest_digest="m", gateway="g")
    assert saved.startswith(b'{\n  "format_version": 1,') and saved.endswith(b"}\n")


def test_save_plan_refusals_say_why_exactly() -> None:
    unsalted = make_plan(DESIRED, ObservedState.empty())
    with pytest.raises(ValueError) as no_salt:
        save_plan(unsalted, manifest_digest="m", gateway="g")
    assert str(no_salt.value) == (
        "plan options carry no salt: plan with PlanOptions(salt=new_salt())"
    )
    broken = make_plan(DESIRED, ObservedState.empty(), PlanOptions(target=("x",), salt=SALT))
    with pytest.raises(ValueError) as errors:
        save_plan(broken, manifest_digest="m", gateway="g")
    assert str(errors.value) == "a plan with errors cannot be saved"


def test_load_plan_refusals_say_why_exactly() -> None:
    with pytest.raises(SavedPlanError) as not_ours:
        load_plan(b'{"kind": "other"}')
    assert str(not_ours.value) == "not an odplan saved plan (missing kind: odplan-saved-plan)"
    plan = make_plan(DESIRED, ObservedState.empty(), PlanOptions(salt=SALT))
    document = json.loads(save_plan(plan, manifest_digest="m", gateway="g"))
    document["salt"] = 7  # exactly one invalid field
    with pytest.raises(SavedPlanError) as corrupt:
        load_plan(json.dumps(document).encode())
    assert str(corrupt.value) == "saved plan is corrupt: Input should be a valid string"
