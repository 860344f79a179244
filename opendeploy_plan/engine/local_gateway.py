"""`--gateway local`: the local platform when one runs in the background (`odplan gateway
start`), else the emulator app in-process, reached through an ASGI transport (httpx-ws's, so
that the build-log WebSocket works in-process too).

Both keep their state in `~/.opendeploy/local/`. The client always calls the local gateway by
its placeholder base URL (`http://odplan.local/api`, so a saved local credential stays valid
whichever way the gateway runs); the transport sends the requests to the running platform.
`local_links` turns what the client then knows (domains, dashboard and bind URLs) into links
that answer on this machine, or marks them as simulated.

The CLI injects `in_process_gateway` into the gateway settings; the gateway client itself
never imports the emulator.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from opendeploy_plan import platform
from opendeploy_plan.engine.local_platform import (
    DB_NAME,
    LOCAL_RUNTIME_MARK,
    PlatformRecord,
    live_url,
    running_platform,
    serving,
)
from opendeploy_plan.gateway import (
    LOCAL_BASE_URL,
    GatewayError,
    LocalEndpoint,
    local_auth_file_path,
    local_dir,
    write_auth_file,
)

if TYPE_CHECKING:
    from opendeploy_plan.engine.report import DeployReport

__all__ = [
    "LOCAL_TIMINGS",
    "SIMULATED_NOTE",
    "LocalLinks",
    "in_process_gateway",
    "local_address",
    "local_links",
    "local_page_link",
    "localize_report",
    "mint_local_account",
]

# What a link of the in-process (simulated) gateway carries: nothing serves it.
SIMULATED_NOTE = "(simulated locally, not served: start the platform with `odplan gateway start`)"

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
    """The platform serving `data_dir` when one runs; else the emulator with its SQLite file
    in `data_dir`, its lifespan entered by hand (since `ASGITransport` does not run it) and
    left when the caller is done."""
    record = serving(data_dir)
    if record is not None:
        async with _ToPlatform(record) as forward:
            yield LocalEndpoint(forward, lambda: _mint_on_platform(record))
        return
    if (data_dir / LOCAL_RUNTIME_MARK).exists():
        raise GatewayError(
            f"the local platform is stopped, and its state ({data_dir}) holds apps of the "
            "local runtime that only the running platform can read",
            hint="Start it with `odplan gateway start` (it serves the last successful "
            "deployments again), then run this command again.",
        )

    # Only here, for the in-process gateway: the emulator (FastAPI, ~0.5 s of CPU to import)
    # and the WebSocket stack stay off every command that talks to a running platform, and
    # off `localize_report` (every apply's report imports this module).
    from httpx_ws.transport import ASGIWebSocketTransport

    from opendeploy_plan.emulator import EmulatorConfig, create_app

    options: dict[str, Any] = {
        "db_path": str(data_dir / DB_NAME),
        "public_url": LOCAL_BASE_URL,
        **LOCAL_TIMINGS,
        **(overrides or {}),
    }
    app = create_app(EmulatorConfig(**options))
    async with app.router.lifespan_context(app), ASGIWebSocketTransport(app=app) as transport:

        def mint_token() -> str:
            return str(app.state.emulator.mint_dashboard_token())

        yield LocalEndpoint(transport, mint_token)


class _ToPlatform(httpx.AsyncBaseTransport):
    """Sends requests for the placeholder base URL to the running platform over real HTTP."""

    def __init__(self, record: PlatformRecord) -> None:
        self._target = httpx.URL(record.api_url)
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host, port = self._target.host, self._target.port
        request.url = request.url.copy_with(scheme="http", host=host, port=port)
        request.headers["host"] = f"{host}:{port}"
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _mint_on_platform(record: PlatformRecord) -> str:
    """A dashboard token from the running platform's admin API (loopback only)."""
    headers = {"Authorization": f"Bearer {record.admin_token}"} if record.admin_token else {}
    answer = httpx.post(f"{record.root_url}/_emulator/tokens", json={}, headers=headers, timeout=10)
    if answer.status_code != 200:
        raise RuntimeError(
            f"the local platform refused to mint an account token ({answer.status_code})"
        )
    return str(answer.json()["token"])


async def mint_local_account(env: Mapping[str, str]) -> Path:
    """Save a local dashboard (account) token as the `--gateway local` credential."""
    folder = local_dir(env)
    record = running_platform(env)
    if record is not None:
        token = _mint_on_platform(record)
    else:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        async with in_process_gateway(folder, None) as endpoint:
            token = endpoint.mint_token()
    path = local_auth_file_path(env)
    write_auth_file(path, api_key=token, gateway=LOCAL_BASE_URL)
    return path


class LocalLinks:
    """Links of the local gateway that answer on this machine, or are marked as simulated.

    With a platform running: live URLs on its router, the dashboard and bind pages on its
    own port. Without (the in-process gateway): the platform's names, with `SIMULATED_NOTE`.
    """

    def __init__(self, record: PlatformRecord | None) -> None:
        self.record = record

    def app(self, domain: str) -> str:
        if self.record is None or self.record.router_port is None:
            return f"https://{domain} (simulated locally, not served)"
        return live_url(domain, self.record)

    def page(self, url: str) -> str:
        """A dashboard or bind link under the placeholder base: on the platform's port."""
        placeholder = platform.dashboard_host(LOCAL_BASE_URL)
        if not url.startswith(placeholder):
            return url
        if self.record is None:
            return f"{url} {SIMULATED_NOTE}"
        return self.record.root_url + url[len(placeholder) :]


def local_links(gateway_url: str, env: Mapping[str, str]) -> LocalLinks | None:
    """The local links of `gateway_url` when it is the local gateway, else None."""
    if gateway_url.rstrip("/") != LOCAL_BASE_URL:
        return None
    return LocalLinks(running_platform(env))


def local_address(env: Mapping[str, str]) -> str:
    """Where the local gateway answers, for a person to read: the background platform's API,
    or the in-process gateway (never the placeholder base URL a local credential is saved
    under, which nothing serves)."""
    record = running_platform(env)
    if record is None:
        return "local, in-process (each command runs its own; `odplan gateway start` keeps one)"
    return f"local, {record.api_url}"


def local_page_link(url: str, env: Mapping[str, str]) -> str:
    """A dashboard or bind link of the local gateway, as it answers on this machine."""
    return LocalLinks(running_platform(env)).page(url)


def localize_report(report: DeployReport, env: Mapping[str, str]) -> DeployReport:
    """A deploy report of the local gateway with links that answer here (live URLs on the
    router, dashboard and bind pages on the platform), or marked as simulated when no platform
    runs. Reports of any other gateway are returned as they are."""
    links = local_links(report.gateway, env)
    if links is None:
        return report
    services = [
        dataclasses.replace(s, url=links.app(s.url.removeprefix("https://")))
        if s.url.startswith("https://")
        else s
        for s in report.services
    ]
    if links.record is None:
        return dataclasses.replace(report, services=services, local_note=SIMULATED_NOTE)
    return dataclasses.replace(
        report,
        gateway=links.record.api_url,
        services=services,
        bind_url=links.page(report.bind_url) if report.bind_url else "",
    )
