"""Two small promises of the client (mutation audit, issue 19; docs/credentials.md): an env
value of 8 characters (not only letters) is scrubbed from the gateway's later free text, and
every failed attempt, a 4xx as much as a 5xx, leaves a `gateway.request` line in the audit
log. The server is simulated (httpx.MockTransport); the client and the log are the real ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from opendeploy_plan.auditlog import AuditLog
from opendeploy_plan.gateway import GatewayClient, RequestRecord, audit_failed_requests

SECRET = "pa55w0rd"  # exactly 8 characters, not only letters


@pytest.mark.anyio
async def test_an_eight_character_env_value_is_scrubbed_from_later_free_text() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(200, json={"variables": json.loads(request.content)["variables"]})
        return httpx.Response(
            200,
            json={"id": "d1", "status": "failed", "error_msg": f"cannot connect with {SECRET}"},
        )

    transport = httpx.MockTransport(handler)
    async with GatewayClient("https://gw.example/api", "od_k", transport=transport) as client:
        await client.replace_env("p1", "s1", {"DB_PASSWORD": SECRET})
        deployment = await client.get_deployment("d1")
    assert SECRET not in deployment.error_msg
    assert "***" in deployment.error_msg


@pytest.mark.parametrize("status", [404, 409, 503])
def test_every_failed_attempt_is_written_to_the_audit_log(tmp_path: Path, status: int) -> None:
    audit = AuditLog(tmp_path / "logs")
    record = audit_failed_requests(audit)
    record(RequestRecord("GET", "/v1/regions/", 0, 200, 0.01))
    record(RequestRecord("POST", "/v1/projects/", 0, status, 0.02))
    lines = [json.loads(line) for line in audit.path.read_text().splitlines()]
    assert [(line["step"], line["status"]) for line in lines] == [("gateway.request", status)]
