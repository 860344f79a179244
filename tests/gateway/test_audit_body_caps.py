"""What one answer may cost, and what counts as "sent" (mutation audit, issue 19;
docs/credentials.md, "Hostile or broken gateways"): a success body over 32 MiB is refused even
when it arrives as one chunk without a length; of an error body only the first 64 KiB are
read; a connection that timed out while opening sent nothing, so even a create is simply
retried. The server is simulated (httpx.MockTransport); the client is the real one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from opendeploy_plan.gateway import ApiError, GatewayClient, InvalidResponse, RetryPolicy

BASE = "https://gw.example/api"
TOKEN = "od_a" + "Q" * 43
NO_RETRY = RetryPolicy(max_retries=0)
FAST = RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.01, server_error_delay=0.001)
MIB = 1024 * 1024


class Chunks(httpx.AsyncByteStream):
    """A body without a declared length, handed out chunk by chunk; counts what was pulled."""

    def __init__(self, chunk: bytes, count: int) -> None:
        self.chunk = chunk
        self.count = count
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.pulled += 1
            yield self.chunk


@pytest.mark.anyio
async def test_a_success_body_over_the_cap_in_one_chunk_is_refused_as_too_large() -> None:
    body = Chunks(b" " * (32 * MIB + 1), 1)
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, stream=body))
    async with GatewayClient(BASE, TOKEN, transport=transport, retry=NO_RETRY) as client:
        with pytest.raises(InvalidResponse) as caught:
            await client.regions()
    assert "larger than 32 MiB" in caught.value.message


@pytest.mark.anyio
async def test_only_the_first_64_kib_of_an_error_body_are_read() -> None:
    body = Chunks(b"x" * (64 * 1024), 64)  # 4 MiB of error text
    transport = httpx.MockTransport(lambda _request: httpx.Response(400, stream=body))
    async with GatewayClient(BASE, TOKEN, transport=transport, retry=NO_RETRY) as client:
        with pytest.raises(ApiError) as caught:
            await client.regions()
    assert caught.value.status_code == 400
    assert body.pulled <= 2, f"read {body.pulled} chunks of 64 KiB"


@pytest.mark.anyio
async def test_a_create_whose_connection_timed_out_opening_is_retried_not_unknown() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx.ConnectTimeout("connect timed out", request=request)
        return httpx.Response(200, json={"id": "p1", "name": "tiny"})

    transport = httpx.MockTransport(handler)
    async with GatewayClient(BASE, TOKEN, transport=transport, retry=FAST) as client:
        project = await client.create_project("tiny", region_id="r1")
    assert project.id == "p1"
    assert len(seen) == 2
