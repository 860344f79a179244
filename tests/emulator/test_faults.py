"""Injected faults are targetable and countable, so client tests stay deterministic."""

from __future__ import annotations

import httpx
import pytest

from opendeploy_plan.emulator import EmulatorConfig, FaultRule, LostResponse, create_app
from tests.emulator.helpers import Api


@pytest.fixture
def api(live_gateway) -> Api:
    return Api(live_gateway, live_gateway.dashboard_token)


def admin(live_gateway, method: str, path: str, **kw: object) -> httpx.Response:
    return httpx.request(method, f"{live_gateway.root_url}/_emulator{path}", **kw)  # type: ignore[arg-type]


def test_fail_the_next_n_matching_requests_with_a_5xx_naming_the_service(
    api: Api, live_gateway
) -> None:
    rule = admin(
        live_gateway,
        "POST",
        "/faults",
        json={
            "kind": "error",
            "method": "GET",
            "route": "/api/v1/regions/",
            "count": 2,
            "status": 502,
        },
    ).json()
    assert rule["count"] == 2
    first, second, third = (api.get("/v1/regions/") for _ in range(3))
    assert first.status_code == second.status_code == 502
    assert first.json() == {"error": "upstream service unavailable", "service": "cluster-service"}
    assert third.status_code == 200
    assert admin(live_gateway, "GET", "/faults").json()["faults"] == []


def test_route_patterns_match_templates(api: Api, live_gateway) -> None:
    pid, sid, temp = api.ready_service()
    did = api.deploy(pid, sid, temp)["id"]
    admin(
        live_gateway,
        "POST",
        "/faults",
        json={"kind": "error", "route": "/api/v1/deployments/{deployment_id}", "count": 1},
    )
    failed = api.get(f"/v1/deployments/{did}")
    assert failed.status_code == 503 and failed.json()["service"] == "deployment-service"
    assert api.get(f"/v1/projects/{pid}").status_code == 200
    assert api.get(f"/v1/deployments/{did}").status_code == 200


def test_a_seeded_rate_fires_the_same_way_every_run(live_gateway) -> None:
    outcomes = []
    for _ in range(2):
        rule = FaultRule(kind="error", route="*", rate=0.5, seed=7)
        outcomes.append([rule._rng.random() < rule.rate for _ in range(20)])
    assert outcomes[0] == outcomes[1] and any(outcomes[0]) and not all(outcomes[0])


def test_rate_limit_fault_answers_429_with_retry_after(api: Api, live_gateway) -> None:
    admin(
        live_gateway, "POST", "/faults", json={"kind": "rate_limit", "count": 1, "retry_after": 7}
    )
    response = api.get("/v1/regions/")
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"


def test_latency_fault_delays_matching_requests(api: Api, live_gateway) -> None:
    admin(
        live_gateway,
        "POST",
        "/faults",
        json={"kind": "latency", "latency_ms": 150, "route": "/api/v1/regions/", "count": 1},
    )
    assert api.get("/v1/regions/").elapsed.total_seconds() >= 0.15


def test_lost_response_commits_the_change_then_drops_the_connection(api: Api, live_gateway) -> None:
    admin(
        live_gateway,
        "POST",
        "/faults",
        json={"kind": "lost_response", "method": "POST", "route": "/api/v1/projects/", "count": 1},
    )
    with pytest.raises(httpx.TransportError):
        api.post(
            "/v1/projects/",
            json={"name": "ghost", "repo_url": "file://upload", "skip_validation": True},
        )
    names = [p["name"] for p in api.ok(api.get("/v1/projects/"))["data"]]
    assert names == ["ghost"]


@pytest.mark.anyio
async def test_lost_response_in_process_raises_a_connection_error() -> None:
    app = create_app(EmulatorConfig())
    token = app.state.emulator.mint_dashboard_token()
    app.state.faults.add(FaultRule(kind="lost_response", count=1))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://gw/api", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        with pytest.raises(LostResponse):
            await client.get("/v1/regions/")
        assert (await client.get("/v1/regions/")).status_code == 200


def test_request_counts_are_kept_per_method_and_route_template(api: Api, live_gateway) -> None:
    admin(live_gateway, "DELETE", "/requests")
    pid = api.project()["id"]
    api.get(f"/v1/projects/{pid}")
    api.get(f"/v1/projects/{pid}")
    api.get("/v1/projects")
    counts = admin(live_gateway, "GET", "/requests").json()["counts"]
    assert counts["GET /api/v1/projects/{project_id}"] == 2
    assert counts["POST /api/v1/projects/"] == 1
    assert counts["GET /api/v1/regions/"] == 1
    assert counts["GET /api/v1/projects"] == 1


def test_forced_build_failure_writes_the_given_log_lines(api: Api, live_gateway) -> None:
    admin(
        live_gateway,
        "POST",
        "/deployment-faults",
        json={
            "mode": "fail",
            "phase": "build",
            "service": "web",
            "logs": ["npm ERR! missing script: build"],
            "error_msg": "build script failed",
        },
    )
    pid, sid, temp = api.ready_service()
    failed = api.wait(api.deploy(pid, sid, temp)["id"])
    assert (failed["status"], failed["error_msg"]) == ("failed", "build script failed")
    logs = api.ok(api.get(f"/v1/deployments/{failed['id']}/logs", params={"tail": 1}))
    assert logs["logs"][0]["message"] == "npm ERR! missing script: build"
    assert api.wait(api.deploy(pid, sid, temp)["id"])["status"] == "success"


def test_admin_moves_the_clock_and_runs_gc(live_gateway) -> None:
    before = admin(live_gateway, "GET", "/clock").json()["now"]
    after = admin(live_gateway, "POST", "/clock/advance", json={"seconds": 60}).json()["now"]
    assert after == before + 60
    assert admin(live_gateway, "POST", "/gc").json() == {
        "deleted_projects": [],
        "deleted_guests": [],
    }


def test_admin_mints_tokens(live_gateway) -> None:
    minted = admin(live_gateway, "POST", "/tokens", json={"email": "[email protected]"}).json()
    assert minted["token"].startswith("od_k")
    profile = httpx.get(
        f"{live_gateway.base_url}/v1/profile",
        headers={"Authorization": f"Bearer {minted['token']}"},
    ).json()
    assert profile["email"] == "[email protected]" and profile["id"] == minted["user_id"]


def in_process(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://gw",
    )


@pytest.mark.anyio
async def test_admin_api_can_be_disabled() -> None:
    async with in_process(create_app(EmulatorConfig(admin_enabled=False))) as client:
        assert (await client.post("/_emulator/tokens", json={})).status_code == 404


@pytest.mark.anyio
async def test_configured_fail_rate_and_latency_apply_to_api_routes_only() -> None:
    app = create_app(EmulatorConfig(fail_rate=1.0, latency_ms=1, seed=3, admin_open=True))
    token = app.state.emulator.mint_dashboard_token()
    async with in_process(app) as client:
        response = await client.get(
            "/api/v1/regions/", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 503 and response.json()["service"] == "cluster-service"
        assert (await client.get("/_emulator/clock")).status_code == 200


def test_an_unexpected_error_is_a_500_naming_the_service_and_the_connection_survives(
    api: Api, live_gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(live_gateway.emulator, "regions", broken)
    response = api.get("/v1/regions/")
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal error: RuntimeError",
        "service": "cluster-service",
    }
    assert api.get("/v1/projects/").status_code == 200


def test_fault_specs_parse_as_the_cli_flags_take_them() -> None:
    from opendeploy_plan.emulator.faults import fault_from_spec
    from opendeploy_plan.emulator.state import deployment_fault_from_spec

    rule = fault_from_spec("kind=error,method=post,route=/api/v1/deployments/,count=2,status=502")
    assert (rule.kind, rule.method, rule.route, rule.count, rule.status) == (
        "error",
        "POST",
        "/api/v1/deployments/",
        2,
        502,
    )
    forced = deployment_fault_from_spec("phase=deploy,service=web,log=a|b,error=boom,count=3")
    assert (forced.mode, forced.phase, forced.logs, forced.remaining) == (
        "fail",
        "deploy",
        ("a", "b"),
        3,
    )
    for bad in (
        "error",
        "kind=nope",
        "kind=error,status=200",
        "kind=error,count=x",
        "kind=error,colour=red",
    ):
        with pytest.raises(ValueError):
            fault_from_spec(bad)
    with pytest.raises(ValueError):
        deployment_fault_from_spec("mode=stall,phase=build")
