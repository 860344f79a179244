"""A saved plan is used only by the job that made it, for the gateway it was made for (second
mutation audit, issue 19; engine.saved): another key is refused as such before any request,
and the gateway is compared as a whole URL, not as a prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.engine.prepare import Prepared, load
from opendeploy_plan.engine.saved import (
    PLAN_KEY_ENV,
    StalePlan,
    check_saved_identity,
    new_plan_key,
    unlock_saved_plan,
)
from opendeploy_plan.plan import (
    DesiredService,
    DesiredSource,
    DesiredState,
    DesiredValue,
    PlanOptions,
    SavedPlan,
    load_plan,
    make_plan,
    save_plan,
)
from opendeploy_plan.state.model import ObservedState

GATEWAY = "https://gw.example/api"
MANIFEST = "version: 1\nproject:\n  name: shop\nservices:\n  web:\n    port: 8000\n"
KEY = {PLAN_KEY_ENV: "k" * 40}


def _saved(manifest_digest: str = "sha256:none") -> SavedPlan:
    key = new_plan_key(None, KEY)
    desired = DesiredState(
        project="shop",
        source=DesiredSource(digest="odsrc1:abc"),
        services={"web": DesiredService(port=8000, env={"TOKEN": DesiredValue.secret("T", "v")})},
    )
    plan = make_plan(desired, ObservedState.empty(), PlanOptions(salt=key.key))
    data = save_plan(
        plan, manifest_digest=manifest_digest, gateway=GATEWAY, salt=key.salt, key_check=key.check
    )
    return load_plan(data)


def test_the_planning_key_unlocks_the_plan() -> None:
    saved = _saved()
    unlocked = unlock_saved_plan(saved, None, KEY)
    assert unlocked.salt != saved.salt  # the derived key, never written anywhere


def test_another_key_is_refused_as_another_key() -> None:
    with pytest.raises(StalePlan) as refused:
        unlock_saved_plan(_saved(), None, {PLAN_KEY_ENV: "o" * 40})
    assert "made with another key than this job's (OD_PLAN_KEY)" in refused.value.user_message()


def _prepared(tmp_path: Path) -> Prepared:
    manifest = tmp_path / "opendeploy.yaml"
    manifest.write_text(MANIFEST)
    return load(manifest, None, check_sources=False)


def test_the_same_gateway_with_or_without_a_trailing_slash_is_the_same(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path)
    saved = _saved(prepared.manifest_digest)
    check_saved_identity(saved, prepared, GATEWAY)
    check_saved_identity(saved, prepared, GATEWAY + "/")


@pytest.mark.parametrize("other", [GATEWAY + "2", GATEWAY + "/v2", "https://gw.example/apix"])
def test_a_gateway_that_only_starts_like_the_planned_one_is_another(
    tmp_path: Path, other: str
) -> None:
    prepared = _prepared(tmp_path)
    saved = _saved(prepared.manifest_digest)
    with pytest.raises(StalePlan) as refused:
        check_saved_identity(saved, prepared, other)
    assert f"the plan was made for {GATEWAY}, not {other}" in refused.value.user_message()


def test_a_plan_for_one_environment_is_not_applied_to_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OD_ENVIRONMENT", raising=False)
    manifest = tmp_path / "opendeploy.yaml"
    manifest.write_text(MANIFEST + "environments:\n  production: {}\n  staging: {}\n")
    saved = _saved(load(manifest, None, check_sources=False).manifest_digest)
    assert saved.environment == "production"
    check_saved_identity(saved, load(manifest, "production", check_sources=False), GATEWAY)

    staging = load(manifest, "staging", check_sources=False)
    with pytest.raises(StalePlan) as refused:
        check_saved_identity(saved, staging, GATEWAY)
    assert "the plan is for production, not staging" in refused.value.user_message()
