"""Session rules (mutation audit, round 6): the request deadline knob, what counts as consent,
which attempts reach the audit log, how a token is classified, and the gateway a new guest
credential is saved for. The server is simulated (httpx.MockTransport); the client, the
credential files and the audit log are the real ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from opendeploy_plan.auditlog import AuditLog
from opendeploy_plan.gateway import (
    GatewayClient,
    InvalidRequest,
    RegistrationIncomplete,
    RetryPolicy,
)
from opendeploy_plan.gateway._credentials import Credential, GatewaySettings, read_auth_file
from opendeploy_plan.gateway._engine import RequestRecord
from opendeploy_plan.gateway._session import (
    Consent,
    audit_failed_requests,
    probe_credential,
    register_guest_credential,
    request_deadline,
)

BASE = "https://gw.example/api"
DASH = "od_k" + "D" * 43
GUEST = "od_a" + "G" * 43
NO_RETRY = RetryPolicy(max_retries=0)


def _client(handler: Callable[[httpx.Request], httpx.Response], token: str | None = DASH) -> Any:
    return GatewayClient(BASE, token, transport=httpx.MockTransport(handler), retry=NO_RETRY)


def _lines(folder: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("*.log"))
        for line in path.read_text().splitlines()
    ]


# --- knobs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "deadline"),
    [
        ("30", 30.0),
        (" 2.5 ", 2.5),
        ("86399", 86399.0),
        ("86400", None),
        ("0", None),
        ("-5", None),
        ("soon", None),
        ("", None),
    ],
)
def test_the_request_deadline_knob(value: str, deadline: float | None) -> None:
    assert request_deadline({"OPDEPLOY_REQUEST_DEADLINE": value}) == deadline
    assert request_deadline({}) is None


@pytest.mark.parametrize(
    ("env", "yes", "answer", "granted"),
    [
        ({"OPDEPLOY_ALLOW_CREDENTIAL_INIT": "1"}, False, None, True),
        ({"OPDEPLOY_ALLOW_CREDENTIAL_INIT": "true"}, False, None, False),
        ({"OPDEPLOY_ALLOW_CREDENTIAL_INIT": "yes"}, False, None, False),
        ({}, True, None, True),
        ({}, False, True, True),
        ({}, False, False, False),
        ({}, False, None, False),
    ],
)
def test_what_counts_as_consent(
    env: dict[str, str], yes: bool, answer: bool | None, granted: bool
) -> None:
    prompt = None if answer is None else (lambda _question: answer)
    assert Consent(assume_yes=yes, env=env, prompt=prompt).granted("?") is granted


def test_only_failed_attempts_reach_the_audit_log(tmp_path: Path) -> None:
    record = audit_failed_requests(AuditLog(tmp_path))
    record(RequestRecord("GET", "/v1/a", 0, 200, 0.01))
    record(RequestRecord("GET", "/v1/b", 0, 399, 0.01))
    record(RequestRecord("GET", "/v1/c", 1, 400, 0.25))
    record(RequestRecord("POST", "/v1/d", 0, None, 1.0, error="GatewayTimeout"))
    lines = _lines(tmp_path)
    assert [(line["path"], line["status"], line["error"]) for line in lines] == [
        ("/v1/c", 400, None),
        ("/v1/d", None, "GatewayTimeout"),
    ]
    assert lines[0]["elapsed_ms"] == 250 and lines[0]["attempt"] == 1
    assert all(line["level"] == "warn" for line in lines)


# --- classifying a token --------------------------------------------------------------------------


def _answers(regions: int, profile: int) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/v1/regions/"):
            return httpx.Response(regions, json=[] if regions == 200 else {"error": "no"})
        return httpx.Response(profile, json={"id": "u1"} if profile == 200 else {"error": "no"})

    return handler


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("token", "regions", "profile", "state"),
    [
        (DASH, 401, 200, "rejected"),
        (GUEST, 401, 401, "rejected"),
        (GUEST, 200, 401, "guest pending"),
        (DASH, 200, 401, "unknown"),
        ("od_x" + "Q" * 43, 200, 401, "unknown"),
        (GUEST, 200, 200, "guest bound"),
        (DASH, 200, 200, "dashboard"),
        ("od_x" + "Q" * 43, 200, 200, "unknown"),
    ],
)
async def test_a_token_is_classified(token: str, regions: int, profile: int, state: str) -> None:
    async with _client(_answers(regions, profile), token) as client:
        status = await probe_credential(client, Credential(token, BASE, "env"))
    assert status.state == state
    assert (status.profile is not None) == (profile == 200 and regions == 200)


# --- registering a guest credential ---------------------------------------------------------------


def _registration(**fields: Any) -> Callable[[httpx.Request], httpx.Response]:
    body = {"guest_id": "g-1", "api_key": GUEST, "bind_sig": "sig-1", **fields}
    return lambda _request: httpx.Response(201, json=body)


def _settings(tmp_path: Path, *, local: bool = False, url: str = BASE) -> GatewaySettings:
    return GatewaySettings(url, local, tmp_path / "auth.json", None)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("echoed", "saved", "warned"),
    [
        ("https://other.example/api/", "https://other.example/api", False),
        ("http://127.0.0.1:8787/api", "http://127.0.0.1:8787/api", False),
        ("http://evil.example/api", BASE, True),
        ("ftp://x", BASE, True),
        ("", BASE, False),
    ],
)
async def test_the_saved_gateway_is_the_echoed_one_only_when_safe(
    tmp_path: Path, echoed: str, saved: str, warned: bool
) -> None:
    warnings: list[str] = []
    audit = AuditLog(tmp_path / "logs")
    async with _client(_registration(gateway=echoed), None) as client:
        credential = await register_guest_credential(
            client, _settings(tmp_path), warn=warnings.append, audit=audit
        )
    assert credential.gateway == saved
    on_disk = read_auth_file(tmp_path / "auth.json", warn=lambda _m: None)
    assert on_disk is not None and on_disk.gateway == saved
    assert bool(warnings) is warned
    reasons = [line.get("reason") for line in _lines(tmp_path / "logs")]
    assert ("unsafe_gateway_echo" in reasons) is warned


@pytest.mark.anyio
async def test_a_local_registration_is_saved_for_the_local_url(tmp_path: Path) -> None:
    async with _client(_registration(gateway="https://other.example/api"), None) as client:
        credential = await register_guest_credential(
            client, _settings(tmp_path, local=True, url="http://odplan.local/api")
        )
    assert credential.gateway == "http://odplan.local/api"
    assert credential.source == "local"


@pytest.mark.anyio
@pytest.mark.parametrize("missing", [{"bind_sig": None}, {"bind_sig": ""}, {"guest_id": ""}])
async def test_an_incomplete_registration_saves_nothing(
    tmp_path: Path, missing: dict[str, Any]
) -> None:
    audit = AuditLog(tmp_path / "logs")
    async with _client(_registration(**missing), None) as client:
        with pytest.raises(RegistrationIncomplete):
            await register_guest_credential(client, _settings(tmp_path), audit=audit)
    assert not (tmp_path / "auth.json").exists()
    assert [line["reason"] for line in _lines(tmp_path / "logs")] == ["missing_guest_or_bindsig"]


@pytest.mark.anyio
async def test_a_refused_registration_is_logged_by_its_kind(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "logs")
    handler = lambda _request: httpx.Response(400, json={"error": "bad hint"})  # noqa: E731
    async with _client(handler, None) as client:
        with pytest.raises(InvalidRequest):
            await register_guest_credential(client, _settings(tmp_path), audit=audit)
    assert [line["reason"] for line in _lines(tmp_path / "logs")] == ["InvalidRequest"]
    assert not (tmp_path / "auth.json").exists()
