"""The key of a saved plan's hashes (mutation audit, issue 19; engine.saved): `OD_PLAN_KEY`
wins over the credential, and each plan file's random salt goes into the key, so two plan
files of the same secret never share hashes (a hash seen in one file tells nothing about
another)."""

from __future__ import annotations

from dataclasses import dataclass

from opendeploy_plan.engine.saved import PLAN_KEY_ENV, new_plan_key

SECRET = "k" * 40


@dataclass(frozen=True)
class _Credential:
    api_key: str


def test_od_plan_key_is_used_before_the_credential() -> None:
    key = new_plan_key(_Credential("od_" + "c" * 40), {PLAN_KEY_ENV: SECRET})
    same = new_plan_key(None, {PLAN_KEY_ENV: SECRET})
    assert key.source == PLAN_KEY_ENV == same.source
    from_credential = new_plan_key(_Credential("od_" + "c" * 40), {"OD_API_KEY": SECRET})
    assert from_credential.source == "credential"


def test_each_plan_file_salts_its_key() -> None:
    first = new_plan_key(None, {PLAN_KEY_ENV: SECRET})
    second = new_plan_key(None, {PLAN_KEY_ENV: SECRET})
    assert first.salt != second.salt
    assert first.key != second.key
    assert first.check != second.check
