"""The client's manners, against a simulated server (httpx.MockTransport): retries, creates that
never retry blindly, redirects, the concurrency cap, streaming uploads and the documented
answer variants."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from opendeploy_plan.gateway import (
    Forbidden,
    GatewayClient,
    GatewayTimeout,
    GatewayUnreachable,
    OutcomeUnknown,
    RateLimited,
    RedirectRefused,
    RequestRecord,
    ResponseLost,
    RetryPolicy,
    ServerError,
)

TOKEN = "od_a" + "Q" * 43
FAST = RetryPolicy(max_retries=3, base_delay=0.001, max_delay=0.01, server_error_delay=0.001)
BASE = "https://gw.example/api"

Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, **kwargs: Any) -> GatewayClient:
    kwargs.setdefault("retry", FAST)
    return GatewayClient(BASE, TOKEN, transport=httpx.MockTransport(handler), **kwargs)


class Script:
    """A server that answers from a list of steps (a response, or an exception to raise)."""

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return step


# --- idempotent requests retry ------------------------------------------------------------------


@pytest.mark.anyio
async def test_get_retries_5xx_then_succeeds() -> None:
    server = Script(
        httpx.Response(503, json={"error": "unavailable"}),
        httpx.Response(502, json={"error": "bad gateway"}),
        httpx.Response(200, json=[{"id": "r1", "status": "active"}]),
    )
    async with make_client(server) as client:
        regions = await client.regions()
    assert [r.id for r in regions] == ["r1"]
    assert len(server.requests) == 3


@pytest.mark.anyio
async def test_get_gives_up_after_the_bounded_number_of_retries() -> None:
    server = Script(httpx.Response(500, json={"error": "boom", "service": "project-service"}))
    async with make_client(server) as client:
        with pytest.raises(ServerError) as caught:
            await client.list_projects()
    assert len(server.requests) == FAST.max_retries + 1
    assert caught.value.service == "project-service"


@pytest.mark.anyio
async def test_put_retries_transport_errors() -> None:
    server = Script(
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        httpx.Response(200, json={"service_id": "s1", "variables": {"A": "1"}, "count": 1}),
    )
    async with make_client(server) as client:
        env = await client.replace_env("p1", "s1", {"A": "1"})
    assert env.variables == {"A": "1"}
    assert len(server.requests) == 3


@pytest.mark.anyio
async def test_transport_errors_are_typed_and_kept_apart_from_status_errors() -> None:
    async with make_client(Script(httpx.ConnectError("refused")), retry=RetryPolicy(0)) as client:
        with pytest.raises(GatewayUnreachable) as unreachable:
            await client.regions()
    assert isinstance(unreachable.value, ConnectionError)
    assert not unreachable.value.request_sent
    async with make_client(Script(httpx.ReadTimeout("slow")), retry=RetryPolicy(0)) as client:
        with pytest.raises(GatewayTimeout) as timeout:
            await client.regions()
    assert isinstance(timeout.value, TimeoutError)
    async with make_client(Script(httpx.ReadError("reset")), retry=RetryPolicy(0)) as client:
        with pytest.raises(ResponseLost):
            await client.regions()


@pytest.mark.anyio
async def test_403_is_never_retried() -> None:
    server = Script(httpx.Response(403, json={"error": "forbidden"}))
    async with make_client(server) as client:
        with pytest.raises(Forbidden):
            await client.get_service("s1")
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_429_waits_retry_after_then_retries() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    server = Script(
        httpx.Response(429, json={"error": "slow down"}, headers={"Retry-After": "7"}),
        httpx.Response(200, json={"data": []}),
    )
    async with make_client(server, sleep=sleep) as client:
        assert await client.list_projects() == []
    assert waits == [7.0]


@pytest.mark.anyio
async def test_429_with_a_long_retry_after_is_surfaced_not_slept() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    server = Script(httpx.Response(429, json={"error": "x"}, headers={"Retry-After": "3600"}))
    async with make_client(server, sleep=sleep) as client:
        with pytest.raises(RateLimited) as caught:
            await client.list_projects()
    assert waits == []
    assert caught.value.retry_after == 3600


@pytest.mark.anyio
async def test_register_429_is_surfaced_not_retried() -> None:
    server = Script(httpx.Response(429, json={"error": "rate"}, headers={"Retry-After": "1"}))
    async with make_client(server) as client:
        with pytest.raises(RateLimited):
            await client.register_guest(source_hint="odplan/Linux")
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_register_is_anonymous() -> None:
    server = Script(httpx.Response(200, json={"guest_id": "g", "bind_sig": "ab", "gateway": BASE}))
    async with make_client(server) as client:
        await client.register_guest(source_hint="odplan/Linux")
    assert "authorization" not in server.requests[0].headers


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("call", "answer"),
    [
        (
            lambda c: c.update_source("p1", "/tmp/up.zip"),
            {"project_id": "p1", "source_path": "/x", "message": "ok"},
        ),
        (lambda c: c.cancel_deployment("d1"), {"message": "cancelled"}),
        (lambda c: c.retry_domain("dom1"), {"message": "retrying"}),
    ],
    ids=["update-source", "cancel", "domain-retry"],
)
async def test_posts_that_are_safe_to_repeat_retry_a_lost_answer(
    call: Callable[[GatewayClient], Any], answer: dict[str, Any]
) -> None:
    """Pointing a project at an uploaded file, cancelling and retrying a domain end in the same
    state however often they are sent: a lost answer is sent again, not an unknown outcome."""
    server = Script(
        httpx.RemoteProtocolError("server disconnected"),
        httpx.Response(502, json={"error": "bad gateway"}),
        httpx.Response(200, json=answer),
    )
    async with make_client(server) as client:
        await call(client)
    assert len(server.requests) == 3
    assert {r.method for r in server.requests} == {"POST"}


# --- creates never retry blindly ---------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("lost"),
        httpx.RemoteProtocolError("server disconnected"),
        httpx.Response(502, json={"error": "bad gateway"}),
    ],
)
async def test_create_after_ambiguous_failure_is_outcome_unknown(
    failure: httpx.Response | Exception,
) -> None:
    server = Script(failure, httpx.Response(201, json={"id": "p1", "name": "shop"}))
    async with make_client(server) as client:
        with pytest.raises(OutcomeUnknown) as caught:
            await client.create_project("shop", region_id="r1")
    assert len(server.requests) == 1, "a create is never re-sent blindly"
    assert caught.value.method == "POST"
    assert caught.value.path == "/v1/projects/"


@pytest.mark.anyio
async def test_create_retries_when_the_connection_never_opened() -> None:
    server = Script(httpx.ConnectError("refused"), httpx.Response(201, json={"id": "p1"}))
    async with make_client(server) as client:
        project = await client.create_project("shop", region_id="r1")
    assert project.id == "p1"
    assert len(server.requests) == 2


@pytest.mark.anyio
async def test_finders_reconcile_after_outcome_unknown() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v1/projects/":
            return httpx.Response(200, json={"data": [{"id": "p1", "name": "shop"}]})
        if path == "/api/v1/projects/p1/services/":
            return httpx.Response(200, json=[{"service_id": "s1", "name": "web"}])
        if path == "/api/v1/dependencies/status/p1":
            return httpx.Response(
                200, json={"dependencies": [{"id": "d1", "type": "postgres", "status": "running"}]}
            )
        if path == "/api/v1/deployments/":
            assert request.url.params["service_id"] == "s1"
            return httpx.Response(
                200,
                json={
                    "data": [
                        {
                            "id": "old",
                            "service_id": "s1",
                            "description": "run=r0",
                            "created_at": "1",
                        },
                        {
                            "id": "new",
                            "service_id": "s1",
                            "description": "run=r1",
                            "created_at": "2",
                        },
                        {
                            "id": "other",
                            "service_id": "s2",
                            "description": "run=r1",
                            "created_at": "3",
                        },
                    ]
                },
            )
        return httpx.Response(404, json={"error": "no route"})

    async with make_client(handler) as client:
        assert (await client.find_project_by_name("shop")) is not None
        assert await client.find_project_by_name("nope") is None
        service = await client.find_service_by_name("p1", "web")
        assert service is not None and service.id == "s1"
        dependency = await client.find_dependency("p1", type="postgres")
        assert dependency is not None and dependency.id == "d1"
        assert await client.find_dependency("p1", type="redis") is None
        deployment = await client.find_deployment_by_description("s1", "run=r1")
        assert deployment is not None and deployment.id == "new"


# --- redirects ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_same_origin_get_redirect_is_followed_with_the_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/profile":
            return httpx.Response(301, headers={"Location": "/api/v1/profile/"})
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        return httpx.Response(200, json={"id": "u1", "email": "a@example.com"})

    async with make_client(handler) as client:
        profile = await client.profile()  # a slashless path, redirected to the slashed form
    assert profile.id == "u1"


@pytest.mark.anyio
async def test_cross_origin_redirect_is_refused_and_never_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "https://evil.example/steal"})

    async with make_client(handler) as client:
        with pytest.raises(RedirectRefused) as caught:
            await client.regions()
    assert [r.url.host for r in seen] == ["gw.example"]
    assert "evil.example" in caught.value.location


@pytest.mark.anyio
async def test_redirect_of_a_request_with_a_body_is_refused() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(307, headers={"Location": "/api/v1/projects/"})

    async with make_client(handler) as client:
        with pytest.raises(RedirectRefused):
            await client.replace_env("p", "s", {"A": "b"})
    assert len(seen) == 1


# --- the concurrency cap ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_at_most_max_in_flight_requests_run_at_once() -> None:
    in_flight = 0
    peak = 0

    class SlowTransport(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1
            return httpx.Response(200, json={"id": "x"})

    client = GatewayClient(BASE, TOKEN, transport=SlowTransport(), max_in_flight=3)
    async with client:
        await asyncio.gather(*(client.get_project(f"p{i}") for i in range(12)))
    assert peak == 3


# --- request records, uploads, variants, SSE ----------------------------------------------------


@pytest.mark.anyio
async def test_on_request_sees_every_attempt() -> None:
    records: list[RequestRecord] = []
    server = Script(httpx.Response(503, json={"error": "x"}), httpx.Response(200, json=[]))
    async with make_client(server, on_request=records.append) as client:
        await client.regions()
    assert [(r.method, r.path, r.attempt, r.status_code) for r in records] == [
        ("GET", "/v1/regions/", 0, 503),
        ("GET", "/v1/regions/", 1, 200),
    ]


class CountingFile(io.BytesIO):
    """A file that remembers the largest single read, to prove the upload streams."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.largest_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.largest_read = max(self.largest_read, len(chunk))
        return chunk


@pytest.mark.anyio
async def test_upload_streams_the_archive_in_chunks() -> None:
    payload = b"PK" + b"x" * (1024 * 1024)
    received: dict[str, Any] = {}

    class Receiver(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            body = b"".join([chunk async for chunk in request.stream])  # type: ignore[union-attr]
            received["size"] = len(body)
            received["has_file"] = payload in body
            received["ctype"] = request.headers["content-type"]
            return httpx.Response(200, json={"temp_file_path": "/tmp/u1.zip", "filename": "s.zip"})

    archive = CountingFile(payload)
    async with GatewayClient(BASE, TOKEN, transport=Receiver()) as client:
        result = await client.upload_only(
            archive, project_name="shop", region_id="r1", filename="s.zip"
        )
    assert result.temp_file_path == "/tmp/u1.zip"
    assert received["has_file"] and received["ctype"].startswith("multipart/form-data")
    assert 0 < archive.largest_read <= 256 * 1024, "never read whole into memory"


@pytest.mark.anyio
async def test_documented_variants_are_tolerated() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/services/"):
            return httpx.Response(201, json={"id": "s-old", "message": "ok", "extra": 1})
        if path.endswith("/env"):
            return httpx.Response(
                200, json={"service_id": "s1", "variables": [{"key": "A", "value": "1"}]}
            )
        if path == "/api/v1/service-domains":
            return httpx.Response(200, json=[{"id": "d1", "url": "https://x.opendeploy.run"}])
        return httpx.Response(200, json={"guest_id": "", "agent_id": "g-1", "bind_sig": "ff"})

    async with make_client(handler) as client:
        created = await client.create_service("p1", {"name": "web", "type": "web"})
        env = await client.get_env("p1", "s1")
        domains = await client.list_service_domains("s1", environment="production", type="auto")
        registration = await client.register_guest(source_hint="x")
    assert created.service_id == "s-old"
    assert env.variables == {"A": "1"}
    assert domains[0].domain == "https://x.opendeploy.run"
    assert domains[0].url == "https://x.opendeploy.run"
    assert registration.api_key is None


@pytest.mark.anyio
async def test_deployment_request_never_carries_resources() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json={"id": "d1", "status": "pending"})

    async with make_client(handler) as client:
        deployment = await client.create_deployment(
            "p1", "s1", environment="production", temp_file_path="/tmp/u.zip", description="m"
        )
    assert deployment.status == "pending"
    assert "resources" not in bodies[0]
    assert bodies[0]["source"] == "zip"


@pytest.mark.anyio
async def test_log_stream_yields_server_sent_events() -> None:
    stream = b"event: log\ndata: building\n\n: keepalive\n\ndata: line 1\ndata: line 2\nid: 7\n\n"

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept"] == "text/event-stream"
        return httpx.Response(200, content=stream, headers={"content-type": "text/event-stream"})

    async with make_client(handler) as client:
        events = [event async for event in client.stream_deployment_logs("d1")]
    assert [(e.event, e.data, e.id) for e in events] == [
        ("log", "building", None),
        ("message", "line 1\nline 2", "7"),
    ]


@pytest.mark.anyio
async def test_every_url_form_is_the_documented_one() -> None:
    """The forms api-schemas.md, SKILL.md, operate.md and domain.md write: a slash on the
    collections (`/regions/`, `/projects/`, `/services/`, `/deployments/`), none on the
    project's deployments and the domain list (issue 14, item 3)."""
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, json=[])

    async with make_client(handler) as client:
        await client.regions()
        await client.list_projects()
        await client.list_services("p1")
        await client.list_deployments(project_id="p1")
        await client.project_deployments("p1", status="success")
        await client.list_service_domains("s1")
    assert paths == [
        "/api/v1/regions/",
        "/api/v1/projects/",
        "/api/v1/projects/p1/services/",
        "/api/v1/deployments/",
        "/api/v1/projects/p1/deployments",
        "/api/v1/service-domains",
    ]


@pytest.mark.anyio
async def test_path_segments_cannot_change_the_route() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"id": "p1", "name": "x"})

    async with make_client(handler) as client:
        with pytest.raises(ValueError):
            await client.get_project("../admin")
        with pytest.raises(ValueError):
            await client.get_project("")
        await client.get_project("a b")
    assert paths == ["/api/v1/projects/a%20b"]


def test_model_reprs_hide_env_maps_and_secret_fields() -> None:
    from opendeploy_plan.gateway import Deployment, GuestRegistration, Service

    service = Service.model_validate(
        {"id": "s1", "runtime_variables": {"K": "canary-1"}, "env": {"K": "canary-2"}}
    )
    deployment = Deployment.model_validate(
        {"id": "d1", "env_vars": {"K": "canary-3"}, "git_token": "canary-4"}
    )
    registration = GuestRegistration.model_validate(
        {"guest_id": "g", "api_key": "canary-5", "bind_sig": "canary-6", "bind_url": "x?h=canary-7"}
    )
    text = repr(service) + str(service) + repr(deployment) + repr(registration)
    assert "canary" not in text
    assert service.runtime_variables == {"K": "canary-1"}, "values stay usable in memory"


def test_backoff_is_exponential_jittered_and_capped() -> None:
    import random

    policy = RetryPolicy(max_retries=5, base_delay=1.0, max_delay=6.0, jitter=0.5)
    rng = random.Random(7)
    for retry, nominal in enumerate([1.0, 2.0, 4.0, 6.0, 6.0]):
        delays = {policy.delay(retry, rng) for _ in range(50)}
        assert all(nominal * 0.5 <= d <= nominal * 1.5 for d in delays)
        assert len(delays) > 1, "jittered, so concurrent clients do not retry in lockstep"
