"""The client against a gateway that answers only what the documents promise (issue 14).

Each test talks real HTTP to a small fake gateway on 127.0.0.1 (or to the local gateway) and
fails on the client as it was before: trailing slashes the documents do not write, the playbook's
5xx rule, the build-log WebSocket, the echoed gateway, env shapes, unknown analysis values, and
retries that say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from opendeploy_plan.gateway import (
    GatewayClient,
    InvalidResponse,
    NotFound,
    OutcomeUnknown,
    RetryNotice,
    RetryPolicy,
    ServerError,
    register_guest_credential,
    resolve_settings,
)
from tests.gateway.fakes import Seen, asgi_gateway, fake_gateway, reply
from tests.gateway.helpers import FAST, client_for, make_zip

pytestmark = pytest.mark.anyio

TOKEN = "od_k" + "C" * 43


def client(base_url: str, **kwargs: Any) -> GatewayClient:
    kwargs.setdefault("retry", FAST)
    return GatewayClient(base_url, TOKEN, **kwargs)


# --- item 3: URL forms as the documents write them ----------------------------------------------


def documented_only(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    """gin without RedirectTrailingSlash: the documented form answers, any other 404s."""
    if seen.path == "/api/v1/service-domains" and seen.query.get("service_id") == "s1":
        return reply(200, [{"id": "d1", "domain": "web.opendeploy.run", "type": "auto"}])
    if seen.path == "/api/v1/projects/p1/deployments":
        return reply(200, [{"id": "dep1", "status": "success", "service_id": "s1"}])
    return reply(404, {"error": "404 page not found"})


async def test_domains_and_project_deployments_use_the_documented_slashless_forms() -> None:
    with fake_gateway(documented_only) as gateway:
        async with client(gateway.base_url) as api:
            domains = await api.list_service_domains("s1")
            deployments = await api.project_deployments("p1", status="success")
    assert [d.id for d in domains] == ["d1"]
    assert [d.id for d in deployments] == ["dep1"]
    assert gateway.paths() == ["/api/v1/service-domains", "/api/v1/projects/p1/deployments"]


async def test_a_missing_route_names_the_operation() -> None:
    with fake_gateway(lambda seen: reply(404, {"error": "404 page not found"})) as gateway:
        async with client(gateway.base_url) as api:
            with pytest.raises(NotFound) as domains:
                await api.list_service_domains("s1")
            with pytest.raises(NotFound) as deployments:
                await api.project_deployments("p1")
    assert domains.value.message.startswith("listing a service's domains:")
    assert "GET /v1/service-domains" in domains.value.hint
    assert deployments.value.message.startswith("listing a project's deployments:")


async def test_the_local_gateway_still_answers_the_documented_forms(live_gateway: Any) -> None:
    async with client_for(live_gateway) as api:
        region = await api.active_region()
        project = await api.create_project("forms", region_id=region.id)
        service = await api.create_service(
            project.id, {"name": "web", "type": "web", "environment": "production"}
        )
        assert await api.project_deployments(project.id) == []
        assert isinstance(await api.list_service_domains(service.service_id), list)


# --- item 6: a 5xx on a create: retry once after 5 s, then stop ---------------------------------


async def test_a_deployment_5xx_is_retried_once_after_5_s_then_stops(live_gateway: Any) -> None:
    """The caller's create-or-find: create, on an unknown outcome look, then create again."""
    live_gateway.add_fault(
        kind="error", method="POST", route="/api/v1/deployments/", count=2, status=503
    )
    waits: list[float] = []
    notices: list[RetryNotice] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with client_for(
        live_gateway, retry=RetryPolicy(), sleep=sleep, on_retry=notices.append
    ) as api:
        region = await api.active_region()
        project = await api.create_project("flaky", region_id=region.id)
        service = await api.create_service(
            project.id, {"name": "web", "type": "web", "environment": "production"}
        )

        async def create() -> Any:
            return await api.create_deployment(
                project.id,
                service.service_id,
                environment="production",
                temp_file_path="/tmp/x.zip",
                description="odplan run=r1",
            )

        with pytest.raises(OutcomeUnknown):
            await create()
        assert waits == [5.0], "the playbook's 5 s, before the caller reads back"
        assert await api.find_deployment_by_description(service.service_id, "run=r1") is None
        with pytest.raises(ServerError) as repeated:
            await create()
    counts = live_gateway.admin("GET", "/requests")["counts"]
    assert counts["POST /api/v1/deployments/"] == 2, counts
    assert repeated.value.service == "deployment-service"
    assert "deployment-service" in repeated.value.hint
    assert waits == [5.0], "a repeated 5xx stops at once"
    assert [str(n) for n in notices] == [
        "POST /v1/deployments/ failed (HTTP 503); checking in 5.0 s whether it took effect, "
        "then retrying once"
    ]


async def test_reads_say_when_they_retry() -> None:
    answers = iter([reply(503, {"error": "busy"}), reply(502, {}), reply(200, [])])
    notices: list[RetryNotice] = []
    with fake_gateway(lambda seen: next(answers)) as gateway:
        async with client(gateway.base_url, on_retry=notices.append) as api:
            assert await api.list_projects() == []
    assert [(n.retry, n.limit, n.reason) for n in notices] == [
        (1, 2, "HTTP 503"),
        (2, 2, "HTTP 502"),
    ]
    assert str(notices[1]).startswith("GET /v1/projects/ failed (HTTP 502); retrying 2/2 in ")


# --- item 5: the build log is a WebSocket --------------------------------------------------------


def build_log_socket(messages: list[str], seen_auth: list[str]) -> Starlette:
    async def stream(websocket: WebSocket) -> None:
        seen_auth.append(websocket.headers.get("authorization", ""))
        await websocket.accept()
        for message in messages:
            await websocket.send_text(message)
        await websocket.close()

    return Starlette(routes=[WebSocketRoute("/api/v1/deployments/{id}/build-logs/stream", stream)])


async def test_build_logs_are_read_over_a_websocket() -> None:
    seen_auth: list[str] = []
    messages = [
        json.dumps({"message": "step 1/3", "timestamp": "2026-01-01T00:00:00Z", "level": "info"}),
        json.dumps({"line": "step 2/3", "phase": "build"}),
        "plain text line",
        json.dumps({"type": "progress", "percent": 50}),
        json.dumps({"type": "end", "status": "success"}),
        json.dumps({"message": "after the end: never read"}),
    ]
    with asgi_gateway(build_log_socket(messages, seen_auth)) as root:
        async with client(f"{root}/api") as api:
            lines = [line async for line in api.stream_build_logs("d1")]
    assert [(x.message, x.level, x.phase) for x in lines] == [
        ("step 1/3", "info", None),
        ("step 2/3", None, "build"),
        ("plain text line", None, None),
    ]
    assert lines[0].timestamp == "2026-01-01T00:00:00Z"
    assert seen_auth == [f"Bearer {TOKEN}"]


async def test_a_closed_build_log_socket_ends_the_stream_and_can_be_left_early() -> None:
    with asgi_gateway(build_log_socket(["a", "b", "c"], [])) as root:
        async with client(f"{root}/api") as api:
            assert [x.message async for x in api.stream_build_logs("d1")] == ["a", "b", "c"]
            async with contextlib.aclosing(api.stream_build_logs("d1")) as lines:
                async for line in lines:
                    assert line.message == "a"
                    break


def sse_instead_of_upgrade(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    """An older gateway: the upgrade is ignored, the answer is a plain 200 event stream."""
    body = (
        'event: log\ndata: {"message": "compiling"}\n\n'
        "data: linking\n\n"
        "event: end\ndata: {}\n\n"
        "data: never read\n\n"
    )
    return 200, {"Content-Type": "text/event-stream"}, body.encode()


async def test_build_logs_fall_back_to_sse_when_the_upgrade_is_answered_with_200() -> None:
    with fake_gateway(sse_instead_of_upgrade) as gateway:
        async with client(gateway.base_url) as api:
            lines = [line.message async for line in api.stream_build_logs("d1")]
    assert lines == ["compiling", "linking"]
    assert gateway.seen[0].headers.get("upgrade", "").lower() == "websocket"


async def test_build_logs_of_the_local_gateway_today(live_gateway: Any, tmp_path: Path) -> None:
    """The local gateway serves SSE on this route (uvicorn refuses the upgrade): still read."""
    async with client_for(live_gateway) as api:
        region = await api.active_region()
        project = await api.create_project("logs", region_id=region.id)
        service = await api.create_service(
            project.id, {"name": "web", "type": "web", "environment": "production"}
        )
        upload = await api.upload_only(make_zip(tmp_path), project_name="logs", region_id=region.id)
        await api.update_source(project.id, upload.temp_file_path)
        deployment = await api.create_deployment(
            project.id,
            service.service_id,
            environment="production",
            temp_file_path=upload.temp_file_path,
        )
        for _ in range(20):
            live_gateway.advance(1.0)
            if (await api.get_deployment(deployment.id)).status in ("success", "failed"):
                break
        lines = [x.message async for x in api.stream_build_logs(deployment.id)]
    assert lines, "the finished build's log is read back"


# --- item 8: registration keeps the gateway the answer echoes ------------------------------------


def registering(echo: str) -> Any:
    def route(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return reply(
            200,
            {
                "guest_id": "g-1",
                "api_key": "od_a" + "K" * 43,
                "bind_sig": "ab" * 16,
                "gateway": echo,
            },
        )

    return route


async def test_registration_saves_the_echoed_gateway(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "OPDEPLOY_AUTH_FILE": str(tmp_path / "auth.json")}
    with fake_gateway(registering("https://dashboard.example.dev/api/")) as gateway:
        settings = resolve_settings(gateway.base_url, env=env, cwd=tmp_path)
        async with client(gateway.base_url) as api:
            credential = await register_guest_credential(api, settings)
    saved = json.loads((tmp_path / "auth.json").read_text())
    assert saved["gateway"] == "https://dashboard.example.dev/api"
    assert credential.gateway == "https://dashboard.example.dev/api"
    assert stat.S_IMODE((tmp_path / "auth.json").stat().st_mode) == 0o600


async def test_an_unsafe_echoed_gateway_is_not_saved(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "OPDEPLOY_AUTH_FILE": str(tmp_path / "auth.json")}
    warnings: list[str] = []
    with fake_gateway(registering("http://evil.example/api")) as gateway:
        settings = resolve_settings(gateway.base_url, env=env, cwd=tmp_path)
        async with client(gateway.base_url) as api:
            await register_guest_credential(api, settings, warn=warnings.append)
    saved = json.loads((tmp_path / "auth.json").read_text())
    assert saved["gateway"] == gateway.base_url
    assert len(warnings) == 1 and "http://evil.example/api" in warnings[0]


# --- item 11: every readable env shape, and a clear error for the rest ---------------------------


@pytest.mark.parametrize(
    "variables",
    [
        [{"key": "A", "value": "1"}, {"key": "B", "value": "x=y"}],
        [{"name": "A", "value": "1"}, {"name": "B", "value": "x=y"}],
        {"A": "1", "B": "x=y"},
        ["A=1", "B=x=y"],
    ],
)
async def test_every_documented_env_shape_is_read(variables: Any) -> None:
    answer = {"service_id": "s1", "variables": variables, "count": 2}
    with fake_gateway(lambda seen: reply(200, answer)) as gateway:
        async with client(gateway.base_url) as api:
            env = await api.get_env("p1", "s1")
    assert env.variables == {"A": "1", "B": "x=y"}


@pytest.mark.parametrize(
    "answer",
    [
        {"service_id": "s1", "variables": [["A", "secret-value-1"]], "count": 1},
        {"service_id": "s1", "variables": ["secret-value-1"], "count": 1},
        {"service_id": "s1", "variables": "A=secret-value-1", "count": 1},
        {"service_id": "s1", "count": 3},
    ],
)
async def test_an_unreadable_env_is_an_error_not_an_empty_env(answer: Any) -> None:
    with fake_gateway(lambda seen: reply(200, answer)) as gateway:
        async with client(gateway.base_url) as api:
            with pytest.raises(InvalidResponse) as caught:
                await api.get_env("p1", "s1")
    assert "unreadable env" in caught.value.message
    assert "secret-value-1" not in caught.value.message


# --- item 10: unknown analysis values are omitted, never sent ------------------------------------


async def test_update_source_omits_unknown_analysis_values() -> None:
    analysis = {
        "services": [
            {
                "name": "web",
                "source_path": ".",
                "language": "",
                "framework": "",
                "project_type": "web",
                "port": 0,
                "dependencies": [],
                "env": {"EMPTY_ON_PURPOSE": ""},
            },
            {"name": "api", "language": "python", "port": 8000, "framework": None},
        ]
    }
    answer = {"project_id": "p1", "source_path": "/x", "message": "ok"}
    with fake_gateway(lambda seen: reply(200, answer)) as gateway:
        async with client(gateway.base_url) as api:
            await api.update_source("p1", "/tmp/up.zip", analysis=analysis)
    sent = gateway.seen[0].json()["analysis"]["services"]
    assert sent[0] == {
        "name": "web",
        "source_path": ".",
        "project_type": "web",
        "dependencies": [],
        "env": {"EMPTY_ON_PURPOSE": ""},
    }
    assert sent[1] == {"name": "api", "language": "python", "port": 8000}


# --- `--gateway local`: the injected in-process transport carries the build log too -------------


def test_the_local_gateway_serves_the_build_log_in_process(tmp_path: Path) -> None:
    from opendeploy_plan.engine.local_gateway import in_process_gateway, mint_local_account
    from opendeploy_plan.gateway import open_client

    async def run() -> list[str]:
        await mint_local_account(os.environ)  # act as an account (a fresh one is a guest)
        async with open_client("local", local_gateway=in_process_gateway) as api:
            region = await api.active_region()
            project = await api.create_project("local-logs", region_id=region.id)
            service = await api.create_service(
                project.id, {"name": "web", "type": "web", "environment": "production"}
            )
            upload = await api.upload_only(
                make_zip(tmp_path), project_name="local-logs", region_id=region.id
            )
            await api.update_source(project.id, upload.temp_file_path)
            deployment = await api.create_deployment(
                project.id,
                service.service_id,
                environment="production",
                temp_file_path=upload.temp_file_path,
            )
            return [x.message async for x in api.stream_build_logs(deployment.id)]

    assert asyncio.run(asyncio.wait_for(run(), 30))
