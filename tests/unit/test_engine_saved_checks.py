"""A saved plan (engine.saved): which secret keys its hashes, when the file is unusable, and
which staleness check refuses it first."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from opendeploy_plan.engine.desired import Resolution
from opendeploy_plan.engine.prepare import Prepared, load
from opendeploy_plan.engine.saved import (
    PLAN_KEY_ENV,
    PlanFileUnusable,
    PlanKeyMissing,
    StalePlan,
    check_saved_current,
    check_saved_identity,
    new_plan_key,
    read_saved_plan,
    saved_plan_options,
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


@dataclass(frozen=True)
class _Credential:
    api_key: str


def _desired(secret: str = "v", port: int = 8000) -> DesiredState:
    return DesiredState(
        project="shop",
        source=DesiredSource(digest="odsrc1:abc"),
        services={
            "web": DesiredService(port=port, env={"TOKEN": DesiredValue.secret("T", secret)})
        },
    )


def _saved_bytes(
    manifest_digest: str = "sha256:none",
    credential: _Credential | None = None,
    env: dict[str, str] | None = None,
    options: PlanOptions | None = None,
) -> bytes:
    key = new_plan_key(credential, KEY if env is None else env)
    base = options or PlanOptions()
    plan = make_plan(_desired(), ObservedState.empty(), dataclasses.replace(base, salt=key.key))
    return save_plan(
        plan, manifest_digest=manifest_digest, gateway=GATEWAY, salt=key.salt, key_check=key.check
    )


def _saved(**kwargs: object) -> SavedPlan:
    return load_plan(_saved_bytes(**kwargs))  # type: ignore[arg-type]


def _prepared(tmp_path: Path) -> Prepared:
    manifest = tmp_path / "opendeploy.yaml"
    manifest.write_text(MANIFEST)
    return load(manifest, None, check_sources=False)


def test_an_empty_od_plan_key_falls_back_to_the_credential() -> None:
    key = new_plan_key(_Credential("od_" + "c" * 40), {PLAN_KEY_ENV: ""})
    assert key.source == "credential"


def test_no_key_at_all_cannot_save_a_plan() -> None:
    with pytest.raises(PlanKeyMissing):
        new_plan_key(None, {})
    with pytest.raises(PlanKeyMissing):
        new_plan_key(_Credential(""), {PLAN_KEY_ENV: ""})


def test_the_credential_that_planned_unlocks_and_another_does_not() -> None:
    credential = _Credential("od_" + "c" * 40)
    saved = _saved(credential=credential, env={})
    unlocked = unlock_saved_plan(saved, credential, {})
    # The unlocked copy carries the derived key: re-planning with it gives the same hashes.
    assert saved_plan_options(unlocked, guest=False).salt != saved.salt_bytes()
    assert unlocked.changed_secrets(_desired()) == []
    assert unlocked.changed_secrets(_desired("w")) == ["service.web.env.TOKEN (secret T)"]
    with pytest.raises(StalePlan) as refused:
        unlock_saved_plan(saved, _Credential("od_" + "d" * 40), {})
    assert "another key than this job's (credential)" in refused.value.user_message()


def test_without_any_key_the_plan_is_refused_as_made_with_another_key() -> None:
    with pytest.raises(StalePlan) as refused:
        unlock_saved_plan(_saved(), None, {})
    assert "(OD_PLAN_KEY or the credential)" in refused.value.user_message()


def test_a_plan_without_a_key_check_is_unusable() -> None:
    saved = _saved().model_copy(update={"key_check": None})
    with pytest.raises(PlanFileUnusable):
        unlock_saved_plan(saved, None, KEY)


def test_read_saved_plan(tmp_path: Path) -> None:
    good = tmp_path / "plan.json"
    good.write_bytes(_saved_bytes())
    assert read_saved_plan(good).gateway == GATEWAY
    with pytest.raises(PlanFileUnusable):
        read_saved_plan(tmp_path / "missing.json")
    bad_salt = tmp_path / "bad.json"
    saved = load_plan(_saved_bytes()).model_copy(update={"salt": "not hex"})
    bad_salt.write_text(saved.model_dump_json())
    with pytest.raises(PlanFileUnusable) as refused:
        read_saved_plan(bad_salt)
    assert str(bad_salt) in refused.value.user_message()


def test_saved_options_are_kept_and_guest_is_what_the_gateway_says_now() -> None:
    saved = _saved(options=PlanOptions(prune=True, guest=True))
    options = saved_plan_options(saved, guest=False)
    assert options.prune is True
    assert options.guest is False
    assert saved_plan_options(_saved(), guest=True).guest is True


def test_identity_names_the_changed_manifest_and_every_problem(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path)
    saved = _saved(manifest_digest=prepared.manifest_digest)
    check_saved_identity(saved, prepared, GATEWAY)
    prepared.manifest_path.write_text(MANIFEST + "# edited\n")
    with pytest.raises(StalePlan) as refused:
        check_saved_identity(saved, prepared, "https://other/api")
    message = refused.value.user_message()
    assert f"{prepared.manifest_path} changed since the plan was made" in message
    assert f"the plan was made for {GATEWAY}, not https://other/api" in message


def _current(tmp_path: Path, desired: DesiredState, observed: ObservedState) -> Prepared:
    prepared = _prepared(tmp_path)
    prepared.resolution = Resolution(desired)
    prepared.observed = observed
    return prepared


def test_the_same_state_secrets_and_actions_are_current(tmp_path: Path) -> None:
    saved = unlock_saved_plan(_saved(), None, KEY)
    options = saved_plan_options(saved, guest=False)
    prepared = _current(tmp_path, _desired(), ObservedState.empty())
    prepared.plan = make_plan(_desired(), ObservedState.empty(), options)
    check_saved_current(saved, prepared)


def test_a_changed_secret_is_stale(tmp_path: Path) -> None:
    saved = unlock_saved_plan(_saved(), None, KEY)
    options = saved_plan_options(saved, guest=False)
    prepared = _current(tmp_path, _desired("w"), ObservedState.empty())
    prepared.plan = make_plan(_desired("w"), ObservedState.empty(), options)
    with pytest.raises(StalePlan) as refused:
        check_saved_current(saved, prepared)
    assert "these secret values changed" in refused.value.user_message()
    assert "service.web.env.TOKEN (secret T)" in refused.value.user_message()


def test_different_actions_are_stale(tmp_path: Path) -> None:
    saved = unlock_saved_plan(_saved(), None, KEY)
    options = saved_plan_options(saved, guest=False)
    prepared = _current(tmp_path, _desired(port=9000), ObservedState.empty())
    prepared.plan = make_plan(_desired(port=9000), ObservedState.empty(), options)
    with pytest.raises(StalePlan) as refused:
        check_saved_current(saved, prepared)
    assert "planning again now gives different actions" in refused.value.user_message()


def test_changed_live_state_is_stale_before_secrets_are_checked(tmp_path: Path) -> None:
    from opendeploy_plan.state.model import ObservedProject

    saved = unlock_saved_plan(_saved(), None, KEY)
    options = saved_plan_options(saved, guest=False)
    live = ObservedState(project=ObservedProject(id="p-1", name="shop"))
    prepared = _current(tmp_path, _desired("w"), live)
    prepared.plan = make_plan(_desired("w"), live, options)
    with pytest.raises(StalePlan) as refused:
        check_saved_current(saved, prepared)
    message = refused.value.user_message()
    assert "the live state changed since it was made:\n  - project" in message
    assert "secret" not in message
