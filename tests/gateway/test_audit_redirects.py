"""Redirects (mutation audit, issue 19): a create (POST) is never re-sent to a redirect's
target, and "same origin" means scheme, host *and* port. The server is simulated
(httpx.MockTransport); the client is the real one.
"""

from __future__ import annotations

import httpx
import pytest

from opendeploy_plan.gateway import GatewayClient, RedirectRefused, RetryPolicy

TOKEN = "od_a" + "Q" * 43
NO_RETRY = RetryPolicy(max_retries=0)


@pytest.mark.anyio
async def test_a_create_redirected_to_the_same_origin_is_refused_not_re_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/projects/":
            return httpx.Response(307, headers={"Location": "/api/v1/projects/new"})
        return httpx.Response(201, json={"id": "p1", "name": "tiny"})

    transport = httpx.MockTransport(handler)
    async with GatewayClient(
        "https://gw.example/api", TOKEN, transport=transport, retry=NO_RETRY
    ) as client:
        with pytest.raises(RedirectRefused) as caught:
            await client.create_project("tiny", region_id="r1")
    assert [(r.method, r.url.path) for r in seen] == [("POST", "/api/v1/projects/")]
    assert "does not re-send a request body" in caught.value.message


@pytest.mark.anyio
async def test_a_redirect_to_another_port_of_the_same_host_is_another_origin() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.port == 8443:
            return httpx.Response(200, json=[{"id": "r1", "status": "active"}])
        return httpx.Response(302, headers={"Location": "https://gw.example:8443/api/v1/regions/"})

    transport = httpx.MockTransport(handler)
    async with GatewayClient(
        "https://gw.example/api", TOKEN, transport=transport, retry=NO_RETRY
    ) as client:
        with pytest.raises(RedirectRefused) as caught:
            await client.regions()
    assert len(seen) == 1, "the token must not reach another port"
    assert "another origin" in caught.value.message
