"""The consent-gated bootstrap `apply` reuses: reuse a credential, or create one with consent."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from opendeploy_plan.auditlog import AuditLog
from opendeploy_plan.gateway import (
    CONSENT_QUESTION,
    Consent,
    ConsentRequired,
    ensure_credential,
    resolve_settings,
)

pytestmark = pytest.mark.anyio


def env_for(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home")}


async def test_without_consent_nothing_is_created(live_gateway: Any, tmp_path: Path) -> None:
    env = env_for(tmp_path)
    settings = resolve_settings(live_gateway.base_url, env=env, cwd=tmp_path)
    asked: list[str] = []

    def decline(question: str) -> bool:
        asked.append(question)
        return False

    audit = AuditLog(tmp_path / "logs")
    with pytest.raises(ConsentRequired) as caught:
        await ensure_credential(settings, Consent(env=env, prompt=decline), audit=audit)
    assert asked == [CONSENT_QUESTION]
    assert "OPDEPLOY_ALLOW_CREDENTIAL_INIT" in caught.value.hint
    assert not settings.auth_path.exists()
    assert "consent_missing" in audit.path.read_text()
    with pytest.raises(ConsentRequired):
        await ensure_credential(settings, Consent(env=env))  # no TTY: no prompt, no consent


async def test_with_consent_a_guest_credential_is_saved(live_gateway: Any, tmp_path: Path) -> None:
    env = {**env_for(tmp_path), "OPDEPLOY_ALLOW_CREDENTIAL_INIT": "1"}
    settings = resolve_settings(live_gateway.base_url, env=env, cwd=tmp_path)
    credential = await ensure_credential(settings, Consent(env=env))
    assert credential.kind == "guest" and credential.bind_url
    saved = json.loads(settings.auth_path.read_text())
    assert saved["api_key"] == credential.api_key
    assert stat.S_IMODE(settings.auth_path.stat().st_mode) == 0o600

    again = resolve_settings(live_gateway.base_url, env=env, cwd=tmp_path)
    reused = await ensure_credential(again, Consent(env={}))
    assert reused.api_key == credential.api_key, "an existing credential is reused silently"


def test_consent_sources() -> None:
    assert Consent(assume_yes=True, env={}).granted("q")
    assert Consent(env={"OPDEPLOY_ALLOW_CREDENTIAL_INIT": "1"}).granted("q")
    assert not Consent(env={"OPDEPLOY_ALLOW_CREDENTIAL_INIT": "yes"}).granted("q")
    assert Consent(env={}, prompt=lambda _q: True).granted("q")
    assert not Consent(env={}).granted("q")
