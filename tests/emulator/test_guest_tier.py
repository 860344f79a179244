"""Guest credentials (not linked to an account) get the documented caps, gates and 6 h GC."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import Api, guest_api


@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [("cpu_limit", "1500m", "1"), ("memory_limit", "2Gi", "1Gi"), ("replicas", 2, 1)],
)
def test_guest_service_over_a_cap_is_403_guest_quota_exceeded(
    live_gateway, field: str, value: object, limit: object
) -> None:
    guest, _ = guest_api(live_gateway)
    project = guest.project()
    body = {"name": "web", "type": "web", "environment": "production", field: value}
    if field == "cpu_limit":
        body["cpu_request"] = "500m"
    response = guest.post(f"/v1/projects/{project['id']}/services/", json=body)
    assert response.status_code == 403
    error = response.json()
    assert error["error_code"] == "guest_quota_exceeded"
    assert (error["field"], error["requested"], error["limit"]) == (field, value, limit)
    assert guest.ok(guest.get(f"/v1/projects/{project['id']}/services/"))["total"] == 0


def test_guest_at_the_caps_is_accepted(live_gateway) -> None:
    guest, _ = guest_api(live_gateway)
    project = guest.project()
    sid = guest.service(project["id"], cpu_limit="1", memory_limit="1Gi", replicas=1)
    service = guest.ok(guest.get(f"/v1/services/{sid}"))
    assert (service["cpu_limit"], service["memory_limit"], service["replicas"]) == ("1", "1Gi", 1)


def test_guest_gets_one_service_per_project(live_gateway) -> None:
    guest, _ = guest_api(live_gateway)
    project = guest.project()
    guest.service(project["id"], name="web")
    response = guest.post(
        f"/v1/projects/{project['id']}/services/",
        json={"name": "worker", "type": "worker", "environment": "production"},
    )
    assert response.status_code == 403
    assert response.json()["error_code"] == "guest_quota_exceeded"
    assert response.json()["field"] == "services"


def test_guest_caps_also_apply_to_service_updates(live_gateway) -> None:
    guest, _ = guest_api(live_gateway)
    sid = guest.service(guest.project()["id"])
    response = guest.put(f"/v1/services/{sid}", json={"memory_limit": "4Gi"})
    assert response.status_code == 403
    assert response.json()["field"] == "memory_limit"
    assert guest.ok(guest.get(f"/v1/services/{sid}"))["memory_limit"] == "1Gi"


def test_dashboard_users_are_not_capped(live_gateway) -> None:
    user = Api(live_gateway, live_gateway.dashboard_token)
    project = user.project()
    user.service(project["id"], name="web", cpu_limit="2", memory_limit="4Gi", replicas=3)
    user.service(project["id"], name="worker", type="worker")


def test_second_live_guest_project_is_409_with_the_existing_project_id(live_gateway) -> None:
    guest, _ = guest_api(live_gateway)
    first = guest.project(name="first")
    response = guest.post(
        "/v1/projects/",
        json={"name": "second", "repo_url": "file://upload", "skip_validation": True},
    )
    assert response.status_code == 409
    assert response.json()["project_id"] == first["id"]


def test_billing_and_custom_domains_are_bind_required_for_guests(live_gateway) -> None:
    guest, _ = guest_api(live_gateway)
    sid = guest.service(guest.project()["id"])
    for response in (
        guest.get("/v1/billing/quota"),
        guest.get("/v1/billing/subscription"),
        guest.post("/v1/service-domains/", json={"service_id": sid, "domain": "shop.example.com"}),
    ):
        assert response.status_code == 403
        assert response.json()["error_code"] == "bind_required"


def test_idle_guest_project_is_collected_after_6_hours(live_gateway) -> None:
    guest, _ = guest_api(live_gateway)
    pid, sid, _ = guest.ready_service()
    guest.wait(guest.deploy(pid, sid)["id"])
    dep = guest.ok(
        guest.post("/v1/dependencies/create", json={"project_id": pid, "dependency_id": "redis"})
    )
    live_gateway.clock.advance(5 * 3600)
    assert live_gateway.emulator.run_gc()["deleted_projects"] == []
    live_gateway.clock.advance(3600 + 1)
    assert live_gateway.emulator.run_gc()["deleted_projects"] == [pid]
    assert guest.get(f"/v1/projects/{pid}").status_code == 404
    assert guest.get(f"/v1/services/{sid}").status_code == 404
    assert dep["id"]
    # The credential survives (it deployed), and may create a project again.
    guest.project(name="again")


def test_gc_runs_from_the_clock_without_the_admin_call(live_gateway) -> None:
    guest, _ = guest_api(live_gateway)
    pid, sid, _ = guest.ready_service()
    guest.wait(guest.deploy(pid, sid)["id"])
    live_gateway.clock.advance(6 * 3600 + 60)
    assert guest.get(f"/v1/projects/{pid}").status_code == 404


def test_deploy_activity_postpones_gc(live_gateway) -> None:
    guest, _ = guest_api(live_gateway)
    pid, sid, _ = guest.ready_service()
    guest.wait(guest.deploy(pid, sid)["id"])
    live_gateway.clock.advance(5 * 3600)
    guest.wait(guest.deploy(pid, sid)["id"])
    live_gateway.clock.advance(5 * 3600)
    assert live_gateway.emulator.run_gc()["deleted_projects"] == []


def test_never_used_guest_credential_is_dropped_after_the_horizon(live_gateway) -> None:
    guest, body = guest_api(live_gateway)
    live_gateway.clock.advance(6 * 3600 + 1)
    assert body["guest_id"] in live_gateway.emulator.run_gc()["deleted_guests"]
    assert guest.get("/v1/regions/").status_code == 401


def test_bound_guest_projects_are_never_collected(live_gateway) -> None:
    guest, body = guest_api(live_gateway)
    pid, sid, _ = guest.ready_service()
    guest.wait(guest.deploy(pid, sid)["id"])
    live_gateway.emulator.bind_guest(body["guest_id"])
    live_gateway.clock.advance(48 * 3600)
    assert live_gateway.emulator.run_gc()["deleted_projects"] == []
    assert guest.get(f"/v1/projects/{pid}").status_code == 200
