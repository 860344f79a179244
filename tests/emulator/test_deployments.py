"""Deployments: validation, the lifecycle derived from the clock, logs, streams, cancel,
rollback, and the auto domain that follows a success."""

from __future__ import annotations

import json

import pytest

from tests.emulator.helpers import Api


@pytest.fixture
def api(live_gateway) -> Api:
    return Api(live_gateway, live_gateway.dashboard_token)


def test_k8s_string_resources_are_400_with_the_go_unmarshal_message(api: Api) -> None:
    pid, sid, temp = api.ready_service()
    for field in ("cpu_limit", "memory_request"):
        response = api.post(
            "/v1/deployments/",
            json={
                "project_id": pid,
                "service_id": sid,
                "environment": "production",
                "source": "zip",
                "temp_file_path": temp,
                "resources": {field: "2"},
            },
        )
        assert response.status_code == 400
        assert response.json() == {
            "error": "json: cannot unmarshal string into Go struct field "
            f"ResourceLimits.resources.{field} of type float64"
        }
    assert api.ok(api.get("/v1/deployments/", params={"project_id": pid}))["total"] == 0


def test_numeric_resources_are_accepted(api: Api) -> None:
    pid, sid, temp = api.ready_service()
    api.deploy(pid, sid, temp, resources={"cpu_limit": 2.0, "memory_limit": 4})


def test_required_fields_and_invalid_values_are_400(api: Api) -> None:
    pid, sid, temp = api.ready_service()
    base = {
        "project_id": pid,
        "service_id": sid,
        "environment": "production",
        "source": "zip",
        "temp_file_path": temp,
    }
    for change, needle in (
        ({"temp_file_path": ""}, "temp_file_path"),
        ({"strategy": "yolo"}, "strategy"),
        ({"source": "svn"}, "source"),
        ({"environment": "qa"}, "environment"),
        ({"dependencies": ["not-a-dependency"]}, "dependency"),
    ):
        response = api.post("/v1/deployments/", json={**base, **change})
        assert response.status_code == 400, change
        assert needle in response.json()["error"]
    missing = {k: v for k, v in base.items() if k != "service_id"}
    assert api.post("/v1/deployments/", json=missing).json() == {"error": "service_id is required"}


def test_deploy_without_update_source_fails_at_progress_10_within_2_seconds(
    api: Api, live_gateway
) -> None:
    project = api.project()
    sid = api.service(project["id"])
    temp = api.upload()  # parked, never bound with update-source
    created = api.deploy(project["id"], sid, temp)
    live_gateway.clock.advance(2)
    failed = api.deployment(created["id"])
    assert (failed["status"], failed["progress"]) == ("failed", 10)
    assert failed["error_msg"] == "Service failed to deploy"
    assert api.ok(api.get(f"/v1/deployments/{created['id']}/logs")) == {
        "deployment_id": created["id"],
        "logs": None,
        "total": 0,
    }


def test_lifecycle_goes_pending_building_deploying_success_with_rising_progress(
    api: Api, live_gateway
) -> None:
    pid, sid, temp = api.ready_service()
    created = api.deploy(pid, sid, temp, description="odplan digest=abc123 run=r-1")
    assert created["status"] == "pending" and created["progress"] == 0
    seen: list[tuple[str, int]] = []
    while True:
        current = api.deployment(created["id"])
        seen.append((current["status"], current["progress"]))
        if current["status"] == "success":
            break
        assert current["completed_at"] is None
        live_gateway.clock.advance(0.25)
    statuses = [s for s, _ in seen]
    assert statuses[0] == "pending" and "building" in statuses and "deploying" in statuses
    order = ["pending", "building", "deploying", "success"]
    assert [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s] == order
    progress = [p for _, p in seen]
    assert progress == sorted(progress) and progress[-1] == 100
    assert current["description"] == "odplan digest=abc123 run=r-1"
    assert current["completed_at"] and current["created_at"] < current["completed_at"]


def test_project_without_analyze_config_goes_through_analyzing(api: Api, live_gateway) -> None:
    project = api.project()
    sid = api.service(project["id"])
    temp = api.upload()
    api.bind_source(project["id"], temp, analysis=None)
    created = api.deploy(project["id"], sid, temp)
    live_gateway.clock.advance(1.5)
    assert api.deployment(created["id"])["status"] == "analyzing"
    assert api.wait(created["id"])["status"] == "success"


def test_missing_service_source_folder_fails_the_build_with_a_log_line(api: Api) -> None:
    pid, sid, temp = api.ready_service(files={"web/main.py": "x"}, source_path="api")
    done = api.wait(api.deploy(pid, sid, temp)["id"])
    assert done["status"] == "failed"
    assert "source folder 'api' not found" in done["error_msg"]
    logs = api.ok(api.get(f"/v1/deployments/{done['id']}/logs"))["logs"]
    assert any(
        "source folder 'api' not found" in line["message"] and "web" in line["message"]
        for line in logs
    )


def test_service_builds_from_its_folder_inside_the_project_archive(api: Api) -> None:
    pid, sid, temp = api.ready_service(
        files={"api/main.py": "x", "web/index.js": "y"}, source_path="api"
    )
    assert api.wait(api.deploy(pid, sid, temp)["id"])["status"] == "success"


def test_logs_support_tail_and_since(api: Api) -> None:
    pid, sid, temp = api.ready_service()
    did = api.wait(api.deploy(pid, sid, temp)["id"])["id"]
    everything = api.ok(api.get(f"/v1/deployments/{did}/logs"))
    assert everything["total"] == len(everything["logs"]) > 5
    tail = api.ok(api.get(f"/v1/deployments/{did}/logs", params={"tail": 2}))
    assert tail["logs"] == everything["logs"][-2:]
    cut = everything["logs"][3]["timestamp"]
    since = api.ok(api.get(f"/v1/deployments/{did}/logs", params={"since": cut}))
    assert since["logs"] == everything["logs"][4:]
    assert api.get(f"/v1/deployments/{did}/logs", params={"since": "yesterday"}).status_code == 400
    assert api.get(f"/v1/deployments/{did}/logs", params={"tail": "x"}).status_code == 400


def test_logs_only_show_lines_that_already_happened(api: Api, live_gateway) -> None:
    pid, sid, temp = api.ready_service()
    did = api.deploy(pid, sid, temp)["id"]
    early = api.ok(api.get(f"/v1/deployments/{did}/logs"))["total"]
    live_gateway.clock.advance(3)
    later = api.ok(api.get(f"/v1/deployments/{did}/logs"))["total"]
    assert 0 < early < later


def test_deploy_log_stream_is_server_sent_events_ending_with_the_status(api: Api) -> None:
    pid, sid, temp = api.ready_service()
    did = api.wait(api.deploy(pid, sid, temp)["id"])["id"]
    with api.http.stream("GET", f"/v1/deployments/{did}/logs/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    events = [block for block in text.split("\n\n") if block]
    assert events[-1] == 'event: end\ndata: {"status": "success"}'
    first = json.loads(events[0].split("data: ", 1)[1])
    assert first["message"].endswith("queued")


def test_build_log_stream_is_a_websocket_of_json_lines_ending_with_the_status(
    api: Api, live_gateway
) -> None:
    import threading
    import time

    pid, sid, temp = api.ready_service()
    did = api.deploy(pid, sid, temp)["id"]

    def tick() -> None:
        for _ in range(40):
            time.sleep(0.02)
            live_gateway.clock.advance(0.5)

    ticker = threading.Thread(target=tick)
    ticker.start()
    messages = api.build_logs(did)
    ticker.join()
    assert messages[0]["type"] == "log" and messages[0]["message"].endswith("queued")
    assert {"timestamp", "level", "phase", "message"} <= set(messages[0])
    assert messages[-2]["message"] == "Deployment successful"
    assert messages[-1] == {"type": "end", "status": "success"}
    # A plain GET is not an upgrade: 400, as a WebSocket handler answers it.
    assert api.get(f"/v1/deployments/{did}/build-logs/stream").status_code == 400


def test_build_log_socket_refuses_a_bad_credential_before_the_upgrade(
    api: Api, live_gateway
) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    pid, sid, temp = api.ready_service()
    did = api.deploy(pid, sid, temp)["id"]
    url = live_gateway.base_url.replace("http", "ws", 1)
    path = f"{url}/v1/deployments/{did}/build-logs/stream"
    with pytest.raises(InvalidStatus) as refused:
        connect(path, additional_headers={"Authorization": "Bearer od_k" + "x" * 43})
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as missing:
        connect(
            path.replace(did, "00000000-0000-4000-8000-000000000000"),
            additional_headers={"Authorization": f"Bearer {live_gateway.dashboard_token}"},
        )
    assert missing.value.response.status_code == 404


def test_stream_follows_a_running_deployment(api: Api, live_gateway) -> None:
    import threading
    import time

    pid, sid, temp = api.ready_service()
    did = api.deploy(pid, sid, temp)["id"]

    def tick() -> None:
        for _ in range(40):
            time.sleep(0.02)
            live_gateway.clock.advance(0.5)

    ticker = threading.Thread(target=tick)
    ticker.start()
    with api.http.stream("GET", f"/v1/deployments/{did}/logs/stream") as response:
        text = response.read().decode()
    ticker.join()
    assert "Deployment successful" in text and text.rstrip().endswith('{"status": "success"}')


def test_cancel_stops_a_running_deployment_and_not_a_finished_one(api: Api, live_gateway) -> None:
    pid, sid, temp = api.ready_service()
    did = api.deploy(pid, sid, temp)["id"]
    live_gateway.clock.advance(2)
    cancelled = api.ok(api.post(f"/v1/deployments/{did}/cancel"))
    assert cancelled["status"] == "cancelled" and cancelled["completed_at"]
    live_gateway.clock.advance(60)
    assert api.deployment(did)["status"] == "cancelled"
    assert api.post(f"/v1/deployments/{did}/cancel").status_code == 409


def test_a_second_deployment_while_one_runs_is_409_naming_it(api: Api) -> None:
    pid, sid, temp = api.ready_service()
    running = api.deploy(pid, sid, temp)
    response = api.post(
        "/v1/deployments/",
        json={
            "project_id": pid,
            "service_id": sid,
            "environment": "production",
            "source": "zip",
            "temp_file_path": temp,
        },
    )
    assert response.status_code == 409
    assert response.json()["deployment_id"] == running["id"]


def test_list_filters_by_project_and_status(api: Api) -> None:
    pid, sid, temp = api.ready_service()
    ok = api.wait(api.deploy(pid, sid, temp)["id"])
    live = api.deploy(pid, sid, temp)
    api.ok(api.post(f"/v1/deployments/{live['id']}/cancel"))
    listed = api.ok(api.get("/v1/deployments/", params={"project_id": pid}))
    assert [d["id"] for d in listed["data"]] == [live["id"], ok["id"]]
    success = api.ok(api.get(f"/v1/projects/{pid}/deployments/", params={"status": "success"}))
    assert [d["id"] for d in success["data"]] == [ok["id"]]


def test_rollback_redeploys_a_previous_success_and_marks_the_replaced_one(api: Api) -> None:
    pid, sid, temp = api.ready_service()
    first = api.wait(api.deploy(pid, sid, temp)["id"])
    second = api.wait(api.deploy(pid, sid, temp)["id"])
    rollback = api.ok(api.post(f"/v1/deployments/{first['id']}/rollback"), 201)
    assert rollback["is_rollback"] and rollback["rollback_from_id"] == first["id"]
    assert api.wait(rollback["id"])["status"] == "success"
    assert api.deployment(second["id"])["status"] == "rolled_back"
    pending = api.deploy(pid, sid, temp)
    api.ok(api.post(f"/v1/deployments/{pending['id']}/cancel"))
    assert api.post(f"/v1/deployments/{pending['id']}/rollback").status_code == 400


def test_auto_domain_appears_after_the_delay_in_the_environment_base(
    api: Api, live_gateway
) -> None:
    for environment, base in (
        ("production", ".opendeploy.run"),
        ("staging", ".dev.opendeploy.run"),
    ):
        user = Api(live_gateway, live_gateway.emulator.mint_dashboard_token())
        pid, sid, temp = user.ready_service(environment=environment)
        user.wait(user.deploy(pid, sid, temp, environment=environment)["id"], step=0.25)
        rows = user.ok(user.get("/v1/service-domains", params={"service_id": sid}))
        assert rows == []
        domain = user.auto_domain(sid, environment)
        assert domain["domain"].endswith(base) and domain["environment"] == environment
        assert domain["type"] == "auto" and domain["status"] == "active"


def test_rename_changes_the_domain_and_a_later_deployment_keeps_it(api: Api, live_gateway) -> None:
    pid, sid, temp = api.ready_service()
    api.wait(api.deploy(pid, sid, temp)["id"])
    domain = api.auto_domain(sid)
    renamed = api.ok(
        api.put(f"/v1/service-domains/{domain['id']}/subdomain", json={"subdomain": "my-shop"})
    )
    assert renamed["domain"] == "my-shop.opendeploy.run" and renamed["id"] == domain["id"]
    api.wait(api.deploy(pid, sid, temp)["id"])
    live_gateway.clock.advance(10)
    rows = api.ok(api.get("/v1/service-domains", params={"service_id": sid}))
    assert [r["domain"] for r in rows] == ["my-shop.opendeploy.run"]
    assert api.ok(api.post(f"/v1/service-domains/{domain['id']}/retry"))["status"] == "reconciling"


def test_failed_deployment_gets_no_domain(api: Api, live_gateway) -> None:
    pid, sid, temp = api.ready_service(files={"x/a": "1"}, source_path="missing")
    api.wait(api.deploy(pid, sid, temp)["id"])
    live_gateway.clock.advance(60)
    assert api.ok(api.get("/v1/service-domains", params={"service_id": sid})) == []
