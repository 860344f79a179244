"""The playbook's "retry once after a 5xx; if it repeats, stop" is per call, and a success ends
it (mutation audit, issue 19). The server is simulated (httpx.MockTransport); the client is
the real one.
"""

from __future__ import annotations

import httpx
import pytest

from opendeploy_plan.gateway import GatewayClient, OutcomeUnknown, RetryPolicy, ServerError
from opendeploy_plan.gateway._engine import Call

BASE = "https://gw.example/api"
FAST = RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.01, server_error_delay=0.001)
PROJECT = {"id": "p1", "name": "tiny"}


def scripted(*statuses: int) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    left = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = left.pop(0)
        if status == 200:
            return httpx.Response(200, json=PROJECT)
        return httpx.Response(status, json={"error": "unavailable"})

    return httpx.MockTransport(handler), seen


@pytest.mark.anyio
async def test_a_success_clears_the_memory_of_a_5xx_for_that_call() -> None:
    """503, re-sent, 200; later the very same create meets a 503 again: that is a new first
    failure (unknown outcome, the caller reads back and re-sends), not "it repeats, stop"."""
    transport, seen = scripted(503, 200, 503, 200)
    async with GatewayClient(BASE, "od_k", transport=transport, retry=FAST) as client:
        with pytest.raises(OutcomeUnknown):
            await client.create_project("tiny", region_id="r1")
        assert (await client.create_project("tiny", region_id="r1")).id == "p1"
        with pytest.raises(OutcomeUnknown):
            await client.create_project("tiny", region_id="r1")
        assert (await client.create_project("tiny", region_id="r1")).id == "p1"
    assert len(seen) == 4


@pytest.mark.anyio
async def test_a_second_5xx_of_the_same_call_stops() -> None:
    transport, seen = scripted(503, 503)
    async with GatewayClient(BASE, "od_k", transport=transport, retry=FAST) as client:
        with pytest.raises(OutcomeUnknown):
            await client.create_project("tiny", region_id="r1")
        with pytest.raises(ServerError):
            await client.create_project("tiny", region_id="r1")
    assert len(seen) == 2


def test_get_put_and_delete_are_idempotent_by_their_method_a_post_is_not() -> None:
    """Every DELETE the client sends also says so itself, so the method rule is pinned here."""
    for method in ("GET", "HEAD", "PUT", "DELETE"):
        assert Call(method, "v1/x").idempotent, method
    assert not Call("POST", "v1/x").idempotent
    assert Call("POST", "v1/x", idempotent=True).idempotent
