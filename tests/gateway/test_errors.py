"""Every failure-playbook row maps to one typed error with the gateway's reason and a hint."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opendeploy_plan.gateway import (
    ApiError,
    BindRequired,
    Conflict,
    Forbidden,
    GatewayClient,
    GatewayError,
    GuestQuotaExceeded,
    InvalidRequest,
    NotFound,
    QuotaExceeded,
    RateLimited,
    RetryPolicy,
    ServerError,
    Unauthorized,
)

TOKEN = "od_k" + "T" * 43


def client_answering(
    status: int, body: Any, headers: dict[str, str] | None = None
) -> GatewayClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    return GatewayClient(
        "https://gw.example/api",
        TOKEN,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_retries=0),
        bind_url="https://gw.example/guest/g1?h=abc",
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "body", "expected", "builtin"),
    [
        (400, {"error": "invalid region"}, InvalidRequest, ValueError),
        (401, {"error": "invalid api key"}, Unauthorized, PermissionError),
        (403, {"error": "bind_required"}, BindRequired, PermissionError),
        (
            403,
            {"error": "guest_quota_exceeded", "field": "cpu_limit", "requested": "2", "limit": "1"},
            GuestQuotaExceeded,
            PermissionError,
        ),
        (403, {"error": "subscription required"}, QuotaExceeded, PermissionError),
        (403, {"error": "forbidden: not your service"}, Forbidden, PermissionError),
        (404, {"error": "project not found"}, NotFound, LookupError),
        (409, {"error": "duplicate name", "project_id": "p-1"}, Conflict, Exception),
        (429, {"error": "slow down"}, RateLimited, Exception),
        (502, {"error": "upstream failed", "service": "project-service"}, ServerError, Exception),
    ],
)
async def test_status_maps_to_typed_error(
    status: int, body: dict[str, Any], expected: type[ApiError], builtin: type[Exception]
) -> None:
    async with client_answering(status, body) as client:
        with pytest.raises(expected) as caught:
            await client.get_project("p-1")
    error = caught.value
    assert isinstance(error, GatewayError)
    assert isinstance(error, builtin)
    assert error.status_code == status
    assert body["error"] in error.reason, "the gateway's reason is kept verbatim"
    assert error.hint, "every API error says what to do"


@pytest.mark.anyio
async def test_guest_quota_names_field_requested_and_limit() -> None:
    body = {
        "error": "guest_quota_exceeded",
        "field": "memory_limit",
        "requested": "4Gi",
        "limit": "1Gi",
    }
    async with client_answering(403, body) as client:
        with pytest.raises(GuestQuotaExceeded) as caught:
            await client.create_service("p-1", {"name": "web", "type": "web"})
    assert (caught.value.field, caught.value.requested, caught.value.limit) == (
        "memory_limit",
        "4Gi",
        "1Gi",
    )
    assert "memory_limit=4Gi" in caught.value.hint


@pytest.mark.anyio
async def test_conflict_carries_existing_project_id() -> None:
    async with client_answering(
        409, {"error": "guest project exists", "project_id": "p-9"}
    ) as client:
        with pytest.raises(Conflict) as caught:
            await client.create_project("shop", region_id="r-1")
    assert caught.value.existing_id == "p-9"
    assert "p-9" in caught.value.hint


@pytest.mark.anyio
async def test_bind_required_points_at_the_bind_url() -> None:
    async with client_answering(403, {"error": "bind_required"}) as client:
        with pytest.raises(BindRequired) as caught:
            await client.billing_quota()
    assert "https://gw.example/guest/g1?h=abc" in caught.value.hint


@pytest.mark.anyio
async def test_rate_limited_reads_retry_after() -> None:
    async with client_answering(429, {"error": "rate limited"}, {"Retry-After": "1800"}) as client:
        with pytest.raises(RateLimited) as caught:
            await client.register_guest(source_hint="odplan/Linux")
    assert caught.value.retry_after == 1800
    assert "30 min" in caught.value.hint


@pytest.mark.anyio
async def test_git_validation_failure_suggests_default_branch() -> None:
    body = {
        "error": "Git validation failed",
        "error_code": "branch_not_found",
        "available_branches": ["main", "dev"],
        "default_branch": "main",
    }
    async with client_answering(400, body) as client:
        with pytest.raises(InvalidRequest) as caught:
            await client.upload_git(
                "https://git.example/r.git", project_name="p", region_id="r", branch="nope"
            )
    error = caught.value
    assert error.error_code == "branch_not_found"
    assert error.available_branches == ["main", "dev"]
    assert "'main'" in error.hint


@pytest.mark.anyio
async def test_non_json_error_body_is_summarised() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="404 page not found")

    async with GatewayClient(
        "https://gw.example/api", TOKEN, transport=httpx.MockTransport(handler)
    ) as client:
        with pytest.raises(NotFound) as caught:
            await client.get_deployment("d-1")
    assert caught.value.reason == "404 page not found"


@pytest.mark.anyio
async def test_echoed_secrets_are_scrubbed_from_errors() -> None:
    canary = "canary-env-value-4242"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400,
            json={"error": f"value {canary} too long for key API; auth {TOKEN}", "token": TOKEN},
        )

    async with GatewayClient(
        "https://gw.example/api", TOKEN, transport=httpx.MockTransport(handler)
    ) as client:
        with pytest.raises(InvalidRequest) as caught:
            await client.replace_env("p-1", "s-1", {"API": canary})
    rendered = f"{caught.value} {caught.value!r} {caught.value.details} {caught.value.hint}"
    assert canary not in rendered
    assert TOKEN not in rendered
    assert "***" in caught.value.reason
