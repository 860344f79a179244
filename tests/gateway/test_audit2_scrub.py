"""The client scrubs secrets it has read, not only those it sent (independent mutation audit,
issue 19, a real bug): a variable read back from an env map (a database password this run never
sent) is scrubbed from the gateway's later free text, such as a failed build's `error_msg`,
while the env map itself is returned exactly (read-back compares it). The gateway is an httpx
transport."""

from __future__ import annotations

import httpx
import pytest

from opendeploy_plan.gateway import GatewayClient, RetryPolicy

TOKEN = "od_k" + "T" * 43
URL = "postgresql://app:Xk29fPq7Lm@db-1.svc:5432/shop"


def _gateway(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/env"):
        return httpx.Response(200, json={"variables": {"DATABASE_URL": URL, "LOG_LEVEL": "info"}})
    if request.url.path.startswith("/api/v1/dependencies/status/"):
        return httpx.Response(
            200, json={"dependencies": [{"id": "d1", "env_vars": {"PW": "s3cr3t-pw"}}]}
        )
    return httpx.Response(
        200,
        json={
            "id": "dep-1",
            "status": "failed",
            "error_msg": f"cannot connect to {URL} (password s3cr3t-pw)",
        },
    )


@pytest.mark.anyio
async def test_a_variable_read_back_is_scrubbed_from_later_free_text() -> None:
    transport = httpx.MockTransport(_gateway)
    retry = RetryPolicy(max_retries=0)
    async with GatewayClient(
        "https://gw.example/api", TOKEN, transport=transport, retry=retry
    ) as c:
        before = await c.get_deployment("dep-1")
        assert URL in before.error_msg  # nothing read yet: nothing known to scrub
        env = await c.get_env("p1", "s1")
        assert env.variables["DATABASE_URL"] == URL  # data is returned exactly
        await c.dependency_status("p1")
        after = await c.get_deployment("dep-1")
    assert "Xk29fPq7Lm" not in after.error_msg and "s3cr3t-pw" not in after.error_msg
    assert after.error_msg.startswith("cannot connect to ***")
