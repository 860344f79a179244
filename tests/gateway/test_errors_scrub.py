"""Secrets are scrubbed from gateway error text, including where a raw JSON body escapes them."""

from __future__ import annotations

import json

import pytest

from opendeploy_plan.gateway import scrub


@pytest.mark.parametrize(
    "secret", ['CANARY"quote', "CANARY\\back", "CANARYpässwörd", "plain-CANARY"]
)
def test_secrets_are_scrubbed_in_plain_and_json_escaped_form(secret: str) -> None:
    body = json.dumps({"detail": [{"msg": "bad", "input": secret}]})
    # Also inside a longer JSON string, where the escaped secret has no quotes of its own.
    inside = json.dumps({"error": f"the value {secret} was refused"})
    texts = (body, json.dumps({"x": secret}, ensure_ascii=False), f"value {secret}!", inside)
    for text in texts:
        cleaned = scrub(text, [secret])
        assert "CANARY" not in cleaned
        assert "***" in cleaned
