"""Shared pytest configuration, and the `live_gateway` fixture: a fresh local gateway on a real
127.0.0.1 port, with a ManualClock and short phase durations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class LiveGateway:
    """A running local gateway. `base_url` ends in `/api`; move time with `clock.advance()`."""

    root_url: str
    base_url: str
    dashboard_token: str
    emulator: Any
    clock: Any
    app: Any

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)


@pytest.fixture
def live_gateway() -> Iterator[LiveGateway]:
    from opendeploy_plan.emulator import EmulatorConfig, ManualClock, create_app
    from opendeploy_plan.emulator.server import serve_in_thread

    clock = ManualClock()
    config = EmulatorConfig(
        db_path=":memory:",
        clock=clock,
        pending_seconds=1.0,
        analyze_seconds=2.0,
        build_seconds=4.0,
        deploy_seconds=2.0,
        instant_fail_seconds=0.5,
        dependency_ready_seconds=2.0,
        auto_domain_delay_seconds=1.0,
        domain_reconcile_seconds=1.0,
        seed=1234,
    )
    app = create_app(config)
    emulator = app.state.emulator
    with serve_in_thread(app, wait_for_stop=False) as root:
        emulator.config.public_url = f"{root}/api"
        yield LiveGateway(
            root_url=root,
            base_url=f"{root}/api",
            dashboard_token=emulator.mint_dashboard_token(),
            emulator=emulator,
            clock=clock,
            app=app,
        )
