"""The total deadline of one request (mutation audit, issue 19; docs/credentials.md): 60 s by
default, an upload 15 times that, `OPDEPLOY_REQUEST_DEADLINE` to change it.

The server is simulated (httpx.MockTransport) and answers slowly; the client is the real one.
"""

from __future__ import annotations

import asyncio
import io

import httpx
import pytest

from opendeploy_plan.gateway import GatewayClient, GatewayTimeout, RetryPolicy
from opendeploy_plan.gateway._engine import RequestEngine
from opendeploy_plan.gateway._session import request_deadline

BASE = "https://gw.example/api"
NO_RETRY = RetryPolicy(max_retries=0)


def slow_gateway(seconds: float) -> httpx.MockTransport:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(seconds)
        if request.url.path.endswith("/upload-only"):
            return httpx.Response(200, json={"temp_file_path": "/tmp/parked.zip"})
        return httpx.Response(200, json=[{"id": "r1", "status": "active"}])

    return httpx.MockTransport(handler)


def test_one_request_may_take_60_seconds_by_default() -> None:
    assert RequestEngine(BASE).deadline == 60.0
    assert request_deadline({}) is None  # unset: the engine's default
    assert request_deadline({"OPDEPLOY_REQUEST_DEADLINE": "0"}) is None


@pytest.mark.anyio
async def test_an_upload_gets_fifteen_times_the_deadline_of_a_read() -> None:
    """0.1 s per request: a 0.4 s read times out, a 0.4 s upload (1.5 s allowed) does not."""
    async with GatewayClient(
        BASE, "od_k", transport=slow_gateway(0.4), retry=NO_RETRY, deadline=0.1
    ) as client:
        with pytest.raises(GatewayTimeout) as timeout:
            await client.regions()
        assert "within 0.1 s" in timeout.value.message
        parked = await client.upload_only(
            io.BytesIO(b"PK\x05\x06" + bytes(18)), project_name="p", region_id="r1"
        )
    assert parked.temp_file_path == "/tmp/parked.zip"
