"""Refresh, read end to end through a real `GatewayClient` against a scripted gateway (an
`httpx.MockTransport` answering the documented routes): which rows of other environments are
named and in what order, and the defaults a database row is given when the gateway leaves a
field out (status, type, name)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from opendeploy_plan.gateway import GatewayClient, RetryPolicy
from opendeploy_plan.state.model import ObservedState
from opendeploy_plan.state.refresh import refresh

TOKEN = "od_a" + "Q" * 43
FAST = RetryPolicy(max_retries=0, base_delay=0.001, max_delay=0.01, server_error_delay=0.001)


def _observe(
    services: list[dict[str, Any]], dependencies: list[dict[str, Any]], name: str = "shop"
) -> ObservedState:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/").rstrip("/")
        answers: dict[str, Any] = {
            "v1/projects": [{"id": "p1", "name": "shop"}],
            "v1/projects/p1/services": services,
            "v1/dependencies/status/p1": {"dependencies": dependencies},
            "v1/service-domains": [],
            "v1/deployments": [],
        }
        if path.endswith("/env"):
            return httpx.Response(200, json={"variables": {}})
        if path not in answers:
            return httpx.Response(404, json={"detail": f"no route {path}"})
        return httpx.Response(200, content=json.dumps(answers[path]).encode())

    async def run() -> ObservedState:
        transport = httpx.MockTransport(handler)
        async with GatewayClient(
            "https://gw.example/api", TOKEN, transport=transport, retry=FAST
        ) as client:
            return await refresh(client, name, "production")

    return asyncio.run(run())


def test_rows_of_other_environments_are_named_sorted_services_and_dependencies_together() -> None:
    observed = _observe(
        services=[
            {"id": "s1", "name": "web", "environment": "staging"},
            {"id": "s2", "name": "api", "environment": "staging"},
            {"id": "s3", "name": "web", "environment": "production"},
        ],
        dependencies=[
            {"id": "d1", "display_name": "cache", "environment": "staging"},
            {"id": "d2", "display_name": "db", "environment": "production"},
        ],
    )
    assert observed.project is not None
    assert observed.project.other_environment_rows == (
        "dependency.cache (staging)",
        "service.api (staging)",
        "service.web (staging)",
    )
    assert set(observed.services) == {"web"}
    assert set(observed.dependencies) == {"db"}


def test_a_database_row_without_status_type_or_name_gets_the_documented_defaults() -> None:
    observed = _observe(
        services=[],
        dependencies=[
            {"id": "d1", "display_name": "db", "dependency_id": "postgres"},
            {
                "id": "d2",
                "display_name": "cache",
                "type": "redis",
                "dependency_id": "valkey",
                "name": "",
                "status": "provisioning",
            },
        ],
    )
    db = observed.dependencies["db"]
    assert db.status == "running"
    assert db.type == "postgres"
    assert db.name is None and db.environment is None
    cache = observed.dependencies["cache"]
    assert cache.status == "provisioning"
    assert cache.type == "redis"
    assert cache.name is None


def test_no_project_of_that_name_is_an_empty_state() -> None:
    observed = _observe(
        services=[{"id": "s1", "name": "web"}],
        dependencies=[{"id": "d1", "display_name": "db"}],
        name="blog",
    )
    assert observed == ObservedState.empty()
    assert observed.project is None
