"""A saved plan keeps a *salted* hash of each secret-bearing value (issue 19: computing it
without its salt failed no test). Unsalted, a short secret could be found from the file by
hashing guesses; with a fresh salt per plan, two plans of one secret share no hash."""

from __future__ import annotations

import hashlib
import hmac
import json

from opendeploy_plan.plan import (
    DesiredService,
    DesiredSource,
    DesiredState,
    DesiredValue,
    PlanOptions,
    load_plan,
    make_plan,
    save_plan,
)
from opendeploy_plan.state.model import ObservedState

SECRET = "hunter2"
PATH = "service.web.env.API_KEY"


def _desired(value: str = SECRET) -> DesiredState:
    env = {"API_KEY": DesiredValue.secret("api_key", value), "MODE": DesiredValue.literal("x")}
    return DesiredState(
        project="shop",
        source=DesiredSource(digest="odsrc1:abc"),
        services={"web": DesiredService(type="web", port=8080, env=env)},
    )


def _hmac(salt: bytes, text: str) -> str:
    return "hmac-sha256:" + hmac.new(salt, text.encode(), hashlib.sha256).hexdigest()


def test_the_hash_is_an_hmac_under_the_plan_salt() -> None:
    salt = b"\x01" * 16
    value = DesiredValue.secret("api_key", SECRET)
    assert value.salted_hash(salt) == _hmac(salt, SECRET)
    assert value.salted_hash(salt) != value.salted_hash(b"\x02" * 16)
    assert value.salted_hash(salt) != _hmac(b"", SECRET)


def test_the_plan_and_the_saved_file_keep_the_salted_hash_only() -> None:
    salt = b"\x07" * 16
    plan = make_plan(_desired(), ObservedState.empty(), PlanOptions(salt=salt))
    assert dict(plan.secret_hashes) == {PATH: _hmac(salt, SECRET)}
    document = json.loads(save_plan(plan, manifest_digest="m", gateway="local"))
    assert document["salt"] == salt.hex()
    assert document["secret_hashes"] == {PATH: _hmac(salt, SECRET)}
    # Not guessable from the file without the salt: neither a bare hash nor an unkeyed HMAC.
    saved_hash = document["secret_hashes"][PATH]
    assert saved_hash.split(":")[1] != hashlib.sha256(SECRET.encode()).hexdigest()
    assert saved_hash != _hmac(b"", SECRET)


def test_two_plans_of_one_secret_share_no_hash() -> None:
    one = make_plan(_desired(), ObservedState.empty(), PlanOptions(salt=b"a" * 16))
    two = make_plan(_desired(), ObservedState.empty(), PlanOptions(salt=b"b" * 16))
    assert one.secret_hashes[PATH] != two.secret_hashes[PATH]


def test_apply_rechecks_under_the_saved_salt() -> None:
    plan = make_plan(_desired(), ObservedState.empty(), PlanOptions(salt=b"\x09" * 16))
    saved = load_plan(save_plan(plan, manifest_digest="m", gateway="local"))
    assert saved.changed_secrets(_desired()) == []
    assert saved.changed_secrets(_desired("hunter3")) == [f"{PATH} (secret api_key)"]


def test_build_variables_are_rechecked_too() -> None:
    def desired(value: str) -> DesiredState:
        build = {"NPM_TOKEN": DesiredValue.secret("npm", value)}
        service = DesiredService(type="web", port=8080, build_env=build)
        return _desired().model_copy(update={"services": {"web": service}})

    plan = make_plan(desired("a"), ObservedState.empty(), PlanOptions(salt=b"\x03" * 16))
    assert list(plan.secret_hashes) == ["service.web.build_env.NPM_TOKEN"]
    saved = load_plan(save_plan(plan, manifest_digest="m", gateway="g"))
    assert saved.changed_secrets(desired("a")) == []
    assert saved.changed_secrets(desired("b")) == ["service.web.build_env.NPM_TOKEN (secret npm)"]
