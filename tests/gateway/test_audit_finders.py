"""The finders apply reconciles with (mutation audit, issue 19): a deployment found again by
this run's marker is the newest one carrying it, whatever order the gateway lists them in.
The server is simulated (httpx.MockTransport); the client is the real one.
"""

from __future__ import annotations

import httpx
import pytest

from opendeploy_plan.gateway import GatewayClient

ROWS = [
    {
        "id": "d-old",
        "service_id": "s1",
        "description": "x [r=run1]",
        "created_at": "2026-01-01T10:00:00Z",
    },
    {
        "id": "d-new",
        "service_id": "s1",
        "description": "x [r=run1]",
        "created_at": "2026-01-01T10:05:00Z",
    },
    {
        "id": "d-mid",
        "service_id": "s1",
        "description": "x [r=run1]",
        "created_at": "2026-01-01T10:02:00Z",
    },
    {
        "id": "d-other",
        "service_id": "s1",
        "description": "x [r=run2]",
        "created_at": "2026-01-01T10:09:00Z",
    },
]


@pytest.mark.anyio
@pytest.mark.parametrize("rows", [ROWS, list(reversed(ROWS))], ids=["listed", "reversed"])
async def test_the_newest_deployment_with_the_marker_is_found(rows: list[dict[str, str]]) -> None:
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, json={"data": rows}))
    async with GatewayClient("https://gw.example/api", "od_k", transport=transport) as client:
        found = await client.find_deployment_by_description("s1", "r=run1]", project_id="p1")
    assert found is not None and found.id == "d-new"
