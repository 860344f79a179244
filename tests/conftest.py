"""Shared pytest configuration, and the `live_gateway` fixture: a fresh local gateway on a real
127.0.0.1 port, with a ManualClock and short phase durations.

Every test runs with a HOME (and XDG folders) of its own under pytest's temp folder, so nothing a
test starts writes into the real HOME; and the `slow` trials are collected first, so that under
pytest-xdist (`make pytest`) they start at once and overlap with the rest instead of trailing."""

from __future__ import annotations

import os
import pty
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A stable sort: the slow trials first, the rest in collection order.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def _shared_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One XDG cache per test process (a cache may be shared: it is content-keyed)."""
    return str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture(autouse=True)
def _private_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, _shared_cache: str
) -> None:
    """HOME and the XDG folders in a fresh temp folder: we run as root, and a test must never
    leave `~/.opendeploy` or `~/.config` behind in the real HOME. Child processes inherit it."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name, folder in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        monkeypatch.setenv(name, str(home / folder))
    if "XDG_CACHE_HOME" not in os.environ:
        monkeypatch.setenv("XDG_CACHE_HOME", _shared_cache)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# Real seconds: a deployment takes ~0.4 s, a database ~0.2 s, so a whole apply takes a few.
FAST_PHASES: Mapping[str, float] = {
    "pending_seconds": 0.05,
    "analyze_seconds": 0.05,
    "build_seconds": 0.2,
    "deploy_seconds": 0.1,
    "instant_fail_seconds": 0.1,
    "dependency_ready_seconds": 0.2,
    "auto_domain_delay_seconds": 0.2,
    "domain_reconcile_seconds": 0.2,
}


@dataclass
class LiveGateway:
    """A running local gateway. `base_url` ends in `/api`; with a ManualClock, move time with
    `advance()`."""

    root_url: str
    base_url: str
    dashboard_token: str
    emulator: Any
    clock: Any
    app: Any
    # Every request that reached the server, as `(METHOD, raw path?query)`, oldest first: the
    # exact URL forms a client used (the emulator's own counts fold the slash forms together).
    requests: list[tuple[str, str]] = field(default_factory=list)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """The emulator's admin API (`/_emulator/...`), not part of the platform."""
        response = httpx.request(method, f"{self.root_url}/_emulator{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def add_fault(self, **spec: Any) -> None:
        self.admin("POST", "/faults", spec)

    def clear_faults(self) -> None:
        self.admin("DELETE", "/faults")


def register_guest(base_url: str) -> str:
    """A new guest credential from the gateway at `base_url` (ending in /api): its API key."""
    answer = httpx.post(f"{base_url}/v1/client-guests/register", json={}, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["api_key"])


@contextmanager
def running_gateway(**settings: Any) -> Iterator[LiveGateway]:
    """A fresh `:memory:` gateway served by uvicorn on an ephemeral 127.0.0.1 port.

    `settings` are `EmulatorConfig` fields (phase durations, `clock`, `seed`, faults…); without a
    `clock` the gateway runs on the system clock.
    """
    from opendeploy_plan.emulator import EmulatorConfig, create_app
    from opendeploy_plan.emulator.server import serve_in_thread

    app = create_app(EmulatorConfig(db_path=":memory:", **{"admin_open": True, **settings}))
    emulator = app.state.emulator
    seen: list[tuple[str, str]] = []

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            query = scope.get("query_string", b"").decode("latin-1")
            path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
            method = scope.get("method", "WEBSOCKET")
            seen.append((method, f"{path}?{query}" if query else path))
        await app(scope, receive, send)

    with serve_in_thread(recording, wait_for_stop=False) as root:
        emulator.config.public_url = f"{root}/api"
        yield LiveGateway(
            root_url=root,
            base_url=f"{root}/api",
            dashboard_token=emulator.mint_dashboard_token(),
            emulator=emulator,
            clock=emulator.clock,
            app=app,
            requests=seen,
        )


@pytest.fixture
def live_gateway() -> Iterator[LiveGateway]:
    """A gateway on a ManualClock: nothing progresses until the test advances time."""
    from opendeploy_plan.emulator import ManualClock

    with running_gateway(
        clock=ManualClock(),
        pending_seconds=1.0,
        analyze_seconds=2.0,
        build_seconds=4.0,
        deploy_seconds=2.0,
        instant_fail_seconds=0.5,
        dependency_ready_seconds=2.0,
        auto_domain_delay_seconds=1.0,
        domain_reconcile_seconds=1.0,
        seed=1234,
    ) as gateway:
        yield gateway


def run_on_a_tty(
    argv: Sequence[str],
    env: Mapping[str, str],
    answer: str,
    *,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `argv` with a real pseudo-terminal as stdin and type `answer` + Enter into it, the way
    a human answers a prompt (odplan only prompts when stdin is a terminal)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        list(argv),
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        text=True,
    )
    os.close(terminal)
    try:
        os.write(controller, answer.encode() + b"\n")
        out, err = process.communicate(timeout=timeout)
    finally:
        os.close(controller)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)
