"""More request-engine rules (mutation audit, round 6): a compressed answer is decoded once,
the playbook's one re-send of a create starts over after a success, a zero delay is not
announced, and only secret-looking values sent once are scrubbed from later free text. The
server is simulated (httpx.MockTransport); the engine is the real one.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable

import httpx
import pytest

from opendeploy_plan.gateway import OutcomeUnknown, RetryNotice, RetryPolicy, ServerError
from opendeploy_plan.gateway._engine import Call, RequestEngine
from opendeploy_plan.gateway._models import Region

BASE = "https://gw.example/api"
TOKEN = "od_a" + "E" * 43
FAST = RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.01, server_error_delay=0.001)


def engine(handler: Callable[[httpx.Request], httpx.Response], **kwargs: object) -> RequestEngine:
    kwargs.setdefault("retry", FAST)
    return RequestEngine(BASE, TOKEN, transport=httpx.MockTransport(handler), **kwargs)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_gzip_answer_is_decoded_once() -> None:
    body = gzip.compress(b'[{"id": "r1"}]')
    eng = engine(lambda _r: httpx.Response(200, content=body, headers={"Content-Encoding": "gzip"}))
    try:
        regions = await eng.get_list("v1/regions/", Region)
    finally:
        await eng.aclose()
    assert [r.id for r in regions] == ["r1"]


@pytest.mark.anyio
async def test_a_success_resets_the_one_resend_of_a_create() -> None:
    statuses = iter([500, 201, 500, 500])

    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(statuses), json={"id": "p1", "error": "boom"})

    eng = engine(handler)
    call = Call("POST", "v1/projects/", json_body={"name": "shop"})
    try:
        with pytest.raises(OutcomeUnknown):
            await eng.send(call)  # first 5xx: the caller reads back, then re-sends
        assert (await eng.send(call)).status_code == 201
        with pytest.raises(OutcomeUnknown):
            await eng.send(call)  # a new failure after a success is a first one again
        with pytest.raises(ServerError):
            await eng.send(call)  # the same call failing twice in a row is raised as is
    finally:
        await eng.aclose()


@pytest.mark.anyio
async def test_an_unknown_outcome_without_a_wait_is_not_announced() -> None:
    notices: list[RetryNotice] = []
    policy = RetryPolicy(max_retries=0, server_error_delay=0.0)
    eng = engine(lambda _r: httpx.Response(502), retry=policy, on_retry=notices.append)
    try:
        with pytest.raises(OutcomeUnknown):
            await eng.send(Call("POST", "v1/projects/", json_body={}))
    finally:
        await eng.aclose()
    assert notices == []
    waiting = engine(lambda _r: httpx.Response(502), on_retry=notices.append)
    try:
        with pytest.raises(OutcomeUnknown):
            await waiting.send(Call("POST", "v1/projects/", json_body={}))
    finally:
        await waiting.aclose()
    assert len(notices) == 1 and notices[0].reconcile


@pytest.mark.anyio
async def test_only_secret_looking_values_sent_once_are_scrubbed_later() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/ack"):
            return httpx.Response(200, json={"message": "production uses pw-0123456789 and true"})
        return httpx.Response(204)

    eng = engine(handler)
    try:
        await eng.send(
            Call(
                "POST",
                "v1/env",
                json_body={},
                secrets=("production", "true", "pw-0123456789"),
                idempotent=True,
            )
        )
        ack = eng.parse_ack(await eng.send(Call("GET", "v1/ack")))
    finally:
        await eng.aclose()
    assert ack.message == "production uses *** and true"
