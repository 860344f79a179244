"""`--gateway local`: the emulator app in-process, reached through an ASGI transport (httpx-ws's,
so that the build-log WebSocket works in-process too).

The CLI injects `in_process_gateway` into the gateway settings; the gateway client itself
never imports the emulator.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from httpx_ws.transport import ASGIWebSocketTransport

from opendeploy_plan.gateway import LOCAL_BASE_URL, LocalEndpoint

__all__ = ["LOCAL_TIMINGS", "in_process_gateway"]

# Phase timings of the in-process local gateway: short, but never instant, so that watching a
# deployment locally exercises the same code paths as against the platform.
LOCAL_TIMINGS: dict[str, float] = {
    "pending_seconds": 0.2,
    "analyze_seconds": 0.2,
    "build_seconds": 1.0,
    "deploy_seconds": 0.5,
    "instant_fail_seconds": 0.3,
    "dependency_ready_seconds": 0.5,
    "auto_domain_delay_seconds": 0.5,
    "domain_reconcile_seconds": 0.5,
}


@contextlib.asynccontextmanager
async def in_process_gateway(
    data_dir: Path, overrides: Mapping[str, Any] | None
) -> AsyncIterator[LocalEndpoint]:
    """The emulator with its SQLite file in `data_dir`, its lifespan entered by hand (since
    `ASGITransport` does not run it) and left when the caller is done."""
    from opendeploy_plan.emulator import EmulatorConfig, create_app

    options: dict[str, Any] = {
        "db_path": str(data_dir / "gateway.sqlite3"),
        "public_url": LOCAL_BASE_URL,
        **LOCAL_TIMINGS,
        **(overrides or {}),
    }
    app = create_app(EmulatorConfig(**options))
    async with app.router.lifespan_context(app), ASGIWebSocketTransport(app=app) as transport:

        def mint_token() -> str:
            return str(app.state.emulator.mint_dashboard_token())

        yield LocalEndpoint(transport, mint_token)
