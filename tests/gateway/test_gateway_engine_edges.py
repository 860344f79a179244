"""Request-engine edges (mutation audit, round 6): list answers in their wrapped shapes, a
declared length over the cap, a redirect loop, which methods count as idempotent, and where
the token goes. The server is simulated (httpx.MockTransport); the engine is the real one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from opendeploy_plan.gateway import InvalidResponse, RedirectRefused, RetryPolicy
from opendeploy_plan.gateway._engine import Call, RequestEngine
from opendeploy_plan.gateway._models import Region

BASE = "https://gw.example/api"
TOKEN = "od_a" + "K" * 43
FAST = RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.01, server_error_delay=0.001)
NO_RETRY = RetryPolicy(max_retries=0)


def engine(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> RequestEngine:
    kwargs.setdefault("retry", FAST)
    return RequestEngine(BASE, TOKEN, transport=httpx.MockTransport(handler), **kwargs)


async def regions_from(payload: Any) -> list[Region]:
    body = json.dumps(payload).encode()
    eng = engine(lambda _request: httpx.Response(200, content=body))
    try:
        return await eng.get_list("v1/regions/", Region)
    finally:
        await eng.aclose()


# --- list answers ---------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("key", ["data", "items", "results"])
async def test_a_list_wrapped_under_a_known_key_is_read(key: str) -> None:
    regions = await regions_from({key: [{"id": "r1"}, {"id": "r2"}], "total": 2})
    assert [r.id for r in regions] == ["r1", "r2"]


@pytest.mark.anyio
async def test_a_known_key_holding_null_is_an_empty_list() -> None:
    assert await regions_from({"data": None, "other": [{"id": "x"}]}) == []


@pytest.mark.anyio
async def test_an_absent_known_key_is_not_an_empty_list() -> None:
    # `data` is not there at all: the single list under another key is the answer.
    regions = await regions_from({"regions": [{"id": "r9"}], "count": 1})
    assert [r.id for r in regions] == ["r9"]


@pytest.mark.anyio
async def test_two_list_valued_keys_are_not_guessed_between() -> None:
    with pytest.raises(InvalidResponse, match="expected a list"):
        await regions_from({"regions": [{"id": "a"}], "zones": [{"id": "b"}]})


@pytest.mark.anyio
async def test_a_null_answer_is_an_empty_list_and_a_scalar_is_refused() -> None:
    assert await regions_from(None) == []
    with pytest.raises(InvalidResponse, match="expected a list"):
        await regions_from("regions")


# --- caps -----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_declared_length_over_the_cap_is_refused_and_at_the_cap_accepted() -> None:
    body = b'[{"id": "r1"}]'
    eng = engine(lambda _request: httpx.Response(200, content=body), max_response_bytes=len(body))
    try:
        assert [r.id for r in await eng.get_list("v1/regions/", Region)] == ["r1"]
    finally:
        await eng.aclose()
    small = engine(
        lambda _request: httpx.Response(200, content=body), max_response_bytes=len(body) - 1
    )
    try:
        with pytest.raises(InvalidResponse, match="is larger than"):
            await small.get_list("v1/regions/", Region)
    finally:
        await small.aclose()


# --- redirects ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_redirect_loop_is_refused_after_three_hops() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(302, headers={"Location": f"/api/hop{len(seen)}"})

    eng = engine(handler, retry=NO_RETRY)
    try:
        with pytest.raises(RedirectRefused, match="more than 3 redirects"):
            await eng.send(Call("GET", "v1/regions/"))
    finally:
        await eng.aclose()
    assert len(seen) == 4  # the request and three redirects followed


@pytest.mark.anyio
async def test_a_same_origin_redirect_carries_the_token_and_another_port_does_not() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/regions/":
            return httpx.Response(307, headers={"Location": "https://gw.example:443/api/moved"})
        if request.url.path == "/api/moved":
            return httpx.Response(307, headers={"Location": "https://gw.example:8443/api/x"})
        return httpx.Response(200, json=[])

    eng = engine(handler, retry=NO_RETRY)
    try:
        with pytest.raises(RedirectRefused, match="another origin"):
            await eng.send(Call("GET", "v1/regions/"))
    finally:
        await eng.aclose()
    # The explicit default port is the same origin: followed, with the token.
    assert [r.url.path for r in seen] == ["/api/v1/regions/", "/api/moved"]
    assert seen[1].headers.get("Authorization") == f"Bearer {TOKEN}"


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["DELETE", "PUT", "POST", "PATCH"])
async def test_a_redirect_of_a_request_with_a_body_is_never_followed(method: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(307, headers={"Location": "/api/elsewhere"})

    eng = engine(handler, retry=NO_RETRY)
    try:
        with pytest.raises(RedirectRefused, match="does not re-send a request body"):
            await eng.send(Call(method, "v1/things/1", json_body={"a": 1}))
    finally:
        await eng.aclose()
    assert seen == ["/api/v1/things/1"]


# --- idempotency ----------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
async def test_idempotent_methods_are_retried_on_a_5xx(method: str) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(503 if len(calls) == 1 else 204)

    eng = engine(handler)
    try:
        response = await eng.send(Call(method, "v1/things/1"))
    finally:
        await eng.aclose()
    assert response.status_code == 204
    assert calls == [method, method]


def test_only_the_named_methods_are_idempotent_by_themselves() -> None:
    assert Call("DELETE", "x").idempotent and Call("PUT", "x").idempotent
    assert not Call("POST", "x").idempotent and not Call("PATCH", "x").idempotent
    assert Call("POST", "x", idempotent=True).idempotent
