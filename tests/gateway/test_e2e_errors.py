"""Every typed error, forced through the local gateway's real rules or its admin fault API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opendeploy_plan.gateway import (
    BindRequired,
    Conflict,
    GatewayClient,
    GatewayTimeout,
    GuestQuotaExceeded,
    InvalidRequest,
    NotFound,
    OutcomeUnknown,
    QuotaExceeded,
    RateLimited,
    RetryPolicy,
    ServerError,
    Unauthorized,
)
from tests.gateway.helpers import admin, client_for, make_zip

pytestmark = pytest.mark.anyio


async def new_guest(live: Any) -> str:
    async with client_for(live, token="") as anonymous:
        registration = await anonymous.register_guest(source_hint="odplan/test")
    assert registration.api_key is not None
    return registration.api_key.get_secret_value()


async def test_unknown_token_is_unauthorized(live_gateway: Any) -> None:
    async with client_for(live_gateway, token="od_k" + "Z" * 43) as client:
        with pytest.raises(Unauthorized) as caught:
            await client.regions()
    assert caught.value.status_code == 401
    assert "odplan login" in caught.value.hint


async def test_wrong_id_is_not_found(live_gateway: Any) -> None:
    async with client_for(live_gateway) as client:
        with pytest.raises(NotFound):
            await client.get_project("00000000-0000-4000-8000-000000000000")
        with pytest.raises(NotFound):
            await client.get_deployment("00000000-0000-4000-8000-000000000000")


async def test_guest_rules_profile_bind_required_caps_and_one_project(live_gateway: Any) -> None:
    token = await new_guest(live_gateway)
    async with client_for(live_gateway, token=token, bind_url="http://x/guest/g?h=s") as client:
        region = await client.active_region()
        with pytest.raises(Unauthorized):
            await client.profile()
        with pytest.raises(BindRequired) as bind:
            await client.billing_quota()
        assert "http://x/guest/g?h=s" in bind.value.hint
        project = await client.create_project("guest-app", region_id=region.id)
        with pytest.raises(Conflict) as conflict:
            await client.create_project("another-app", region_id=region.id)
        assert conflict.value.existing_id == project.id
        with pytest.raises(GuestQuotaExceeded) as caps:
            await client.create_service(
                project.id,
                {"name": "web", "type": "web", "environment": "production", "cpu_limit": "2"},
            )
        assert caps.value.field == "cpu_limit"
        assert caps.value.limit is not None


async def test_sixth_register_is_rate_limited_and_replays_carry_no_key(live_gateway: Any) -> None:
    async with client_for(live_gateway, token="") as anonymous:
        first = await anonymous.register_guest(source_hint="odplan/test")
        assert first.api_key is not None
        for _ in range(4):
            replay = await anonymous.register_guest(source_hint="odplan/test")
            assert replay.api_key is None and replay.guest_id == first.guest_id
        with pytest.raises(RateLimited) as caught:
            await anonymous.register_guest(source_hint="odplan/test")
    assert caught.value.retry_after is not None and caught.value.retry_after > 0


async def test_subscription_gate_is_quota_exceeded(live_gateway: Any) -> None:
    user_id = live_gateway.emulator.user_of_token(live_gateway.dashboard_token)
    admin(live_gateway, "POST", f"users/{user_id}/plan", {"plan": "none"})
    async with client_for(live_gateway) as client:
        region = await client.active_region()
        with pytest.raises(QuotaExceeded):
            await client.create_project("paid-app", region_id=region.id)


async def test_invalid_request_keeps_the_reason(live_gateway: Any, tmp_path: Path) -> None:
    async with client_for(live_gateway) as client:
        region = await client.active_region()
        with pytest.raises(InvalidRequest) as caught:
            await client.upload_only(make_zip(tmp_path), project_name="x", region_id="not-a-region")
        assert "region" in caught.value.reason
        project = await client.create_project("env-limits", region_id=region.id)
        created = await client.create_service(
            project.id, {"name": "web", "type": "web", "environment": "production"}
        )
        with pytest.raises(InvalidRequest):
            await client.replace_env(project.id, created.service_id, {"K" * 129: "v"})


async def test_5xx_is_retried_then_surfaced_with_the_service(live_gateway: Any) -> None:
    admin(
        live_gateway, "POST", "faults", {"kind": "error", "route": "/api/v1/regions/", "count": 1}
    )
    async with client_for(live_gateway) as client:
        assert await client.regions(), "one 503 is absorbed by a retry"
        admin(live_gateway, "POST", "faults", {"kind": "error", "route": "/api/v1/regions/"})
        with pytest.raises(ServerError) as caught:
            await client.regions()
    assert caught.value.service == "cluster-service"
    admin(live_gateway, "DELETE", "faults")


async def test_429_from_the_gateway_is_waited_out(live_gateway: Any) -> None:
    admin(
        live_gateway,
        "POST",
        "faults",
        {"kind": "rate_limit", "route": "/api/v1/projects/", "count": 1, "retry_after": 0},
    )
    async with client_for(live_gateway) as client:
        assert await client.list_projects() == []


async def test_lost_create_is_outcome_unknown_then_found_by_name(live_gateway: Any) -> None:
    async with client_for(live_gateway) as client:
        region = await client.active_region()
        admin(
            live_gateway,
            "POST",
            "faults",
            {"kind": "lost_response", "method": "POST", "route": "/api/v1/projects/", "count": 1},
        )
        with pytest.raises(OutcomeUnknown) as caught:
            await client.create_project("lost-app", region_id=region.id)
        assert "read" in caught.value.hint
        found = await client.find_project_by_name("lost-app")
    assert found is not None, "the create had committed; reconciling finds it"
    counts = admin(live_gateway, "GET", "requests")
    assert "POST /api/v1/projects/" in str(counts)


async def test_5xx_on_a_create_is_outcome_unknown_not_retried(live_gateway: Any) -> None:
    admin(
        live_gateway,
        "POST",
        "faults",
        {"kind": "error", "method": "POST", "route": "/api/v1/projects/", "count": 1},
    )
    async with client_for(live_gateway) as client:
        region = await client.active_region()
        with pytest.raises(OutcomeUnknown) as caught:
            await client.create_project("flaky-app", region_id=region.id)
        assert isinstance(caught.value.cause, ServerError)
        assert await client.find_project_by_name("flaky-app") is None


async def test_slow_gateway_times_out(live_gateway: Any) -> None:
    admin(
        live_gateway,
        "POST",
        "faults",
        {"kind": "latency", "route": "/api/v1/regions/", "latency_ms": 600, "count": 1},
    )
    client = GatewayClient(
        live_gateway.base_url,
        live_gateway.dashboard_token,
        timeout=0.15,
        retry=RetryPolicy(max_retries=0),
    )
    async with client:
        with pytest.raises(GatewayTimeout) as caught:
            await client.regions()
    assert isinstance(caught.value, TimeoutError)


async def test_git_validation_failure_offers_the_branches(live_gateway: Any) -> None:
    repo = "https://git.example/team/app.git"
    admin(
        live_gateway,
        "POST",
        "git-repos",
        {"url": repo, "branches": ["main", "dev"], "default_branch": "main", "private": True},
    )
    git_token = "ghp_canary_git_token_0042"
    async with client_for(live_gateway) as client:
        region = await client.active_region()
        with pytest.raises(InvalidRequest) as caught:
            await client.upload_git(
                repo, project_name="app", region_id=region.id, branch="nope", git_token=git_token
            )
        assert caught.value.available_branches == ["main", "dev"]
        assert caught.value.default_branch == "main"
        assert "'main'" in caught.value.hint
        assert git_token not in str(caught.value) + repr(caught.value.details)
        parked = await client.upload_git(
            repo, project_name="app", region_id=region.id, branch="main", git_token=git_token
        )
    assert parked.is_git and parked.temp_file_path


async def test_failed_attempts_leave_an_audit_trail(live_gateway: Any, tmp_path: Path) -> None:
    from opendeploy_plan.auditlog import AuditLog
    from opendeploy_plan.gateway import audit_failed_requests

    audit = AuditLog(tmp_path / "logs")
    admin(
        live_gateway, "POST", "faults", {"kind": "error", "route": "/api/v1/regions/", "count": 1}
    )
    async with client_for(live_gateway, on_request=audit_failed_requests(audit)) as client:
        await client.regions()
        await client.list_projects()
    lines = audit.path.read_text().splitlines()
    assert len(lines) == 1
    assert '"step":"gateway.request"' in lines[0] and '"status":503' in lines[0]


async def test_lost_response_on_a_read_is_retried_then_typed(live_gateway: Any) -> None:
    from opendeploy_plan.gateway import ResponseLost

    admin(
        live_gateway,
        "POST",
        "faults",
        {"kind": "lost_response", "method": "GET", "route": "/api/v1/projects/", "count": 1},
    )
    async with client_for(live_gateway) as client:
        assert await client.list_projects() == [], "a read whose answer was lost is re-read"
        admin(
            live_gateway,
            "POST",
            "faults",
            {"kind": "lost_response", "method": "GET", "route": "/api/v1/projects/"},
        )
        with pytest.raises(ResponseLost) as caught:
            await client.list_projects()
    assert caught.value.request_sent
    admin(live_gateway, "DELETE", "faults")


async def test_closed_port_is_unreachable() -> None:
    import socket

    from opendeploy_plan.gateway import GatewayUnreachable

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GatewayClient(f"http://127.0.0.1:{port}/api", "od_k" + "P" * 43, retry=RetryPolicy(0))
    async with client:
        with pytest.raises(GatewayUnreachable) as caught:
            await client.regions()
    assert not caught.value.request_sent
