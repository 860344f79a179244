"""What the gateway client does by default, pinned by an independent mutation audit (issue 19):
an idempotent call is tried three times in all (two retries, each announced as `n/2`); an
error body's password is never kept; the 401 hint says the credential was left alone
(failure-playbook.md: "Do not auto-delete auth.json"). The gateway is an httpx transport.
"""

from __future__ import annotations

import httpx
import pytest

from opendeploy_plan.gateway import (
    ApiError,
    GatewayClient,
    InvalidRequest,
    RetryNotice,
    RetryPolicy,
    ServerError,
    Unauthorized,
)

TOKEN = "od_k" + "T" * 43


@pytest.mark.anyio
async def test_an_idempotent_call_is_tried_three_times_by_default() -> None:
    attempts: list[str] = []
    waits: list[float] = []
    notices: list[RetryNotice] = []

    def always_503(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        return httpx.Response(503, json={"error": "busy"})

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    async with GatewayClient(
        "https://gw.example/api",
        TOKEN,
        transport=httpx.MockTransport(always_503),
        sleep=no_wait,
        on_retry=notices.append,
    ) as client:
        with pytest.raises(ServerError):
            await client.list_projects()
    assert len(attempts) == 3
    assert len(waits) == 2
    assert [str(n).split("; ")[1].split(" in ")[0] for n in notices] == [
        "retrying 1/2",
        "retrying 2/2",
    ]


async def _error(status: int, body: dict[str, object]) -> ApiError:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    transport = httpx.MockTransport(answer)
    retry = RetryPolicy(max_retries=0)
    async with GatewayClient(
        "https://gw.example/api", TOKEN, transport=transport, retry=retry
    ) as c:
        with pytest.raises(ApiError) as caught:
            await c.list_projects()
    return caught.value


@pytest.mark.anyio
async def test_a_password_in_an_error_body_is_never_kept() -> None:
    error = await _error(400, {"error": "bad input", "password": "p4ss-w0rd", "db_password": "q"})
    assert isinstance(error, InvalidRequest)
    assert "password" not in error.details and "db_password" not in error.details, error.details
    assert "p4ss-w0rd" not in str(error)


@pytest.mark.anyio
async def test_secret_named_and_echoed_keys_go_in_any_case() -> None:
    body = {
        "error": "bad input",
        "DB_PASSWORD": "a",
        "Api_Key": "b",
        "GitToken": "c",
        "Client-Secret": "d",
        "AUTHORIZATION": "e",
        "Bind_Sig": "f",
        "Request_Body": {"x": 1},
        "INPUT": "g",
        "field": "name",
    }
    error = await _error(400, body)
    assert sorted(error.details) == ["error", "field"], error.details


@pytest.mark.anyio
async def test_the_401_hint_says_the_credential_was_not_deleted() -> None:
    error = await _error(401, {"error": "invalid api key"})
    assert isinstance(error, Unauthorized)
    assert "odplan has not deleted it" in error.hint
