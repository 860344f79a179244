"""Every server-side row of the skill's references/failure-playbook.md, reproduced.

One test per row, named after the row's symptom. (The `analysis.language == ""` row is a
client-side check with no gateway behaviour, so it has no test here.)
"""

from __future__ import annotations

import httpx
import pytest

from opendeploy_plan.emulator import DeploymentFault
from tests.emulator.helpers import Api, guest_api, register


@pytest.fixture
def api(live_gateway) -> Api:
    return Api(live_gateway, live_gateway.dashboard_token)


def test_401_on_any_call(live_gateway) -> None:
    revoked = "od_a" + "Z" * 43
    for method, path in (
        ("GET", "/v1/regions/"),
        ("POST", "/v1/projects/"),
        ("GET", "/v1/deployments/x"),
        ("PUT", "/v1/services/x"),
    ):
        response = httpx.request(
            method,
            live_gateway.base_url + path,
            json={},
            headers={"Authorization": f"Bearer {revoked}"},
        )
        assert response.status_code == 401 and response.json()["error"]


def test_401_on_v1_profile_only(live_gateway) -> None:
    guest, body = guest_api(live_gateway)
    assert body["api_key"].startswith("od_a") and body["guest_id"]
    assert guest.get("/v1/profile").status_code == 401
    assert guest.get("/v1/regions/").status_code == 200


def test_403_bind_required_on_billing_or_custom_domain_routes(live_gateway) -> None:
    guest, _ = guest_api(live_gateway)
    sid = guest.service(guest.project()["id"])
    billing = guest.get("/v1/billing/quota")
    custom = guest.post(
        "/v1/service-domains/", json={"service_id": sid, "domain": "www.example.com"}
    )
    for response in (billing, custom):
        assert response.status_code == 403 and response.json()["error_code"] == "bind_required"


def test_403_guest_quota_exceeded_on_post_services(live_gateway) -> None:
    guest, _ = guest_api(live_gateway)
    pid = guest.project()["id"]
    over = guest.post(
        f"/v1/projects/{pid}/services/",
        json={
            "name": "web",
            "type": "web",
            "environment": "production",
            "cpu_limit": "2",
            "memory_limit": "4Gi",
        },
    )
    assert over.status_code == 403
    body = over.json()
    assert {"field", "requested", "limit"} <= body.keys()
    # The documented fix: re-issue within the caps.
    guest.service(pid, cpu_limit="1", memory_limit="1Gi", replicas=1)


def test_409_on_post_projects_for_a_local_credential_not_linked_to_an_account(
    live_gateway,
) -> None:
    guest, _ = guest_api(live_gateway)
    existing = guest.project(name="one")
    again = guest.post(
        "/v1/projects/", json={"name": "two", "repo_url": "file://upload", "skip_validation": True}
    )
    assert again.status_code == 409 and again.json()["project_id"] == existing["id"]
    # (a) reuse the returned project: it is fully usable.
    guest.service(again.json()["project_id"])


def test_429_on_post_client_guests_register(live_gateway) -> None:
    for i in range(5):
        register(live_gateway, user_agent=f"ua/{i}")
    limited = httpx.post(f"{live_gateway.base_url}/v1/client-guests/register", json={})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


def test_register_response_missing_api_key(live_gateway) -> None:
    first = register(live_gateway, user_agent="same")
    replay = register(live_gateway, user_agent="same")
    assert "api_key" in first and "api_key" not in replay
    assert replay["guest_id"] == first["guest_id"] and replay["bind_sig"] == first["bind_sig"]


def test_403_subscription_or_quota(api: Api, live_gateway) -> None:
    user_id = live_gateway.emulator.user_of_token(live_gateway.dashboard_token)
    live_gateway.emulator.set_user_plan(user_id, None, {"projects": 1})
    api.project(name="first")
    over = api.post(
        "/v1/projects/",
        json={"name": "second", "repo_url": "file://upload", "skip_validation": True},
    )
    assert over.status_code == 403 and over.json()["quota"] == "projects"
    quota = api.ok(api.get("/v1/billing/quota"))
    assert {"name": "projects", "limit": 1, "used": 1} in quota["quotas"]
    live_gateway.emulator.set_user_plan(user_id, "none", {})
    pid = api.ok(api.get("/v1/projects/"))["data"][0]["id"]
    sid_response = api.post(
        f"/v1/projects/{pid}/services/",
        json={"name": "web", "type": "web", "environment": "production"},
    )
    assert sid_response.status_code == 403
    assert sid_response.json()["error_code"] == "subscription_required"


def test_region_not_found(api: Api, live_gateway) -> None:
    stale = api.region_id()
    live_gateway.emulator.set_region_status(stale, "inactive")
    response = api.post(
        "/v1/projects/",
        json={
            "name": "app",
            "repo_url": "file://upload",
            "skip_validation": True,
            "region_id": stale,
        },
    )
    assert response.status_code == 400 and "region" in response.json()["error"]
    plain = httpx.get(
        f"{live_gateway.base_url}/v1/regions",
        headers={"Authorization": f"Bearer {live_gateway.dashboard_token}"},
    )
    assert plain.status_code == 301 and "Moved Permanently" in plain.text
    fresh = api.region_id()
    assert fresh != stale
    api.project(name="app", region_id=fresh)


def test_post_deployments_400_cannot_unmarshal_string_resource_limits(api: Api) -> None:
    pid, sid, temp = api.ready_service()
    response = api.post(
        "/v1/deployments/",
        json={
            "project_id": pid,
            "service_id": sid,
            "environment": "production",
            "source": "zip",
            "temp_file_path": temp,
            "resources": {"cpu_request": "500m", "cpu_limit": "2"},
        },
    )
    assert response.status_code == 400
    assert "cannot unmarshal string" in response.json()["error"]
    assert "ResourceLimits.resources.cpu_request of type float64" in response.json()["error"]
    api.deploy(pid, sid, temp)  # dropping the block works


def test_deployment_fails_at_progress_10_in_under_2_s(api: Api, live_gateway) -> None:
    project = api.project()
    sid = api.service(project["id"])
    temp = api.upload()
    created = api.deploy(project["id"], sid, temp)
    live_gateway.clock.advance(1.9)
    failed = api.deployment(created["id"])
    assert (failed["status"], failed["progress"]) == ("failed", 10)
    assert failed["error_msg"] == "Service failed to deploy"
    logs = api.ok(api.get(f"/v1/deployments/{created['id']}/logs"))
    assert logs["logs"] is None and logs["total"] == 0
    assert api.ok(api.get(f"/v1/projects/{project['id']}"))["source_path"] == ""
    # Re-upload -> bind -> retry.
    api.bind_source(project["id"], api.upload())
    assert api.wait(api.deploy(project["id"], sid, temp)["id"])["status"] == "success"


def test_deployment_failed_at_build(api: Api, live_gateway) -> None:
    live_gateway.emulator.add_deployment_fault(
        DeploymentFault(
            mode="fail", phase="build", logs=("error TS2322: Type 'string' is not assignable",)
        )
    )
    pid, sid, temp = api.ready_service()
    failed = api.wait(api.deploy(pid, sid, temp)["id"])
    assert failed["status"] == "failed" and failed["progress"] < 60
    tail = api.ok(api.get(f"/v1/deployments/{failed['id']}/logs", params={"tail": 300}))
    assert tail["logs"][-1]["message"] == "error TS2322: Type 'string' is not assignable"
    messages = api.build_logs(failed["id"])
    assert "error TS2322" in messages[-2]["message"]
    assert messages[-1] == {"type": "end", "status": "failed"}


def test_deployment_failed_at_deploy(api: Api, live_gateway) -> None:
    live_gateway.emulator.add_deployment_fault(
        DeploymentFault(
            mode="fail",
            phase="deploy",
            logs=("0/1 nodes available: insufficient memory",),
            error_msg="Deploy failed: pod unschedulable",
        )
    )
    pid, sid, temp = api.ready_service()
    failed = api.wait(api.deploy(pid, sid, temp)["id"])
    assert failed["status"] == "failed" and failed["progress"] >= 60
    logs = api.ok(api.get(f"/v1/deployments/{failed['id']}/logs", params={"tail": 300}))
    assert "insufficient memory" in logs["logs"][-1]["message"]
    api.ok(api.put(f"/v1/services/{sid}", json={"memory_request": "256Mi"}))
    assert api.wait(api.deploy(pid, sid, temp)["id"])["status"] == "success"


def test_deployment_hangs_in_analyzing(api: Api, live_gateway) -> None:
    live_gateway.emulator.add_deployment_fault(DeploymentFault(mode="stall", phase="analyzing"))
    project = api.project()
    sid = api.service(project["id"])
    temp = api.upload()
    api.bind_source(project["id"], temp, analysis=None)
    did = api.deploy(project["id"], sid, temp)["id"]
    live_gateway.clock.advance(60)
    assert api.deployment(did)["status"] == "analyzing"
    assert api.get(f"/v1/deployments/{did}/status").status_code == 404
    assert api.ok(api.get(f"/v1/projects/{project['id']}"))["analyze_config"] is None
    api.ok(api.post(f"/v1/deployments/{did}/cancel"))
    api.bind_source(project["id"], temp, analysis={"language": "python"})
    assert api.ok(api.get(f"/v1/projects/{project['id']}"))["analyze_config"]
    assert api.wait(api.deploy(project["id"], sid, temp)["id"])["status"] == "success"


def test_subdomain_409_collision(api: Api, live_gateway) -> None:
    taken_by = Api(live_gateway, live_gateway.emulator.mint_dashboard_token())
    pid, sid, temp = taken_by.ready_service()
    taken_by.wait(taken_by.deploy(pid, sid, temp)["id"])
    row = taken_by.auto_domain(sid)
    taken_by.ok(
        taken_by.put(f"/v1/service-domains/{row['id']}/subdomain", json={"subdomain": "acme"})
    )
    pid2, sid2, temp2 = api.ready_service()
    api.wait(api.deploy(pid2, sid2, temp2)["id"])
    mine = api.auto_domain(sid2)
    check = api.ok(api.get("/v1/service-domains/check-subdomain/acme"))
    assert check == {"subdomain": "acme", "available": False, "reason": "taken"}
    clash = api.put(f"/v1/service-domains/{mine['id']}/subdomain", json={"subdomain": "acme"})
    assert clash.status_code == 409
    assert api.ok(api.get("/v1/service-domains/check-subdomain/acme-x7k2"))["available"]
    renamed = api.ok(
        api.put(f"/v1/service-domains/{mine['id']}/subdomain", json={"subdomain": "acme-x7k2"})
    )
    assert renamed["domain"] == "acme-x7k2.opendeploy.run"


def test_subdomain_rename_404_on_auto_row(api: Api, live_gateway) -> None:
    pid, sid, temp = api.ready_service(environment="staging")
    api.wait(api.deploy(pid, sid, temp, environment="staging")["id"], step=0.25)
    query = {"service_id": sid, "environment": "staging", "type": "auto"}
    assert api.ok(api.get("/v1/service-domains", params=query)) == []
    missing = api.put(
        "/v1/service-domains/00000000-0000-4000-8000-000000000000/subdomain",
        json={"subdomain": "preview-app"},
    )
    assert missing.status_code == 404
    live_gateway.clock.advance(2)
    rows = api.ok(api.get("/v1/service-domains", params=query))
    assert rows[0]["domain"].endswith(".dev.opendeploy.run")
    renamed = api.ok(
        api.put(f"/v1/service-domains/{rows[0]['id']}/subdomain", json={"subdomain": "preview-app"})
    )
    assert renamed["domain"] == "preview-app.dev.opendeploy.run"


def test_upload_400_git_validation_failed(api: Api, live_gateway) -> None:
    live_gateway.emulator.add_git_repo(
        "https://git.example.com/acme/shop.git",
        {"branches": ["main", "develop"], "default_branch": "main", "files": {"app.py": "x"}},
    )
    form = {
        "project_name": "shop",
        "region_id": api.region_id(),
        "git_url": "https://git.example.com/acme/shop.git",
        "branch": "master",
    }
    response = api.post("/v1/upload/upload-only", data=form, files={"unused": ("", b"")})
    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith("Git validation failed")
    assert body["error_code"] == "branch_not_found"
    assert body["available_branches"] == ["main", "develop"]
    retry = api.ok(
        api.post(
            "/v1/upload/upload-only",
            data={**form, "branch": body["default_branch"]},
            files={"unused": ("", b"")},
        )
    )
    assert retry["is_git"] and retry["branch"] == "main"


def test_upload_400_invalid_region(api: Api, live_gateway) -> None:
    region = api.region_id()
    live_gateway.emulator.set_region_status(region, "inactive")
    zip_file = {"project_file": ("s.zip", b"PK\x05\x06" + b"\0" * 18)}
    response = api.post(
        "/v1/upload/upload-only", data={"project_name": "d", "region_id": region}, files=zip_file
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid region"
    assert api.ok(
        api.post(
            "/v1/upload/upload-only",
            data={"project_name": "d", "region_id": api.region_id()},
            files=zip_file,
        )
    )


def test_dependency_status_failed(api: Api, live_gateway) -> None:
    pid = api.project()["id"]
    dep = api.ok(
        api.post("/v1/dependencies/create", json={"project_id": pid, "dependency_id": "postgres"})
    )
    live_gateway.emulator.fail_dependency(dep["id"], "provisioning failed: no capacity")
    status = api.ok(api.get(f"/v1/dependencies/status/{pid}"))["dependencies"]
    assert status[0]["status"] == "failed" and "no capacity" in status[0]["message"]
    api.ok(api.delete(f"/v1/dependencies/{pid}/{dep['id']}"))
    retry = api.ok(
        api.post("/v1/dependencies/create", json={"project_id": pid, "dependency_id": "postgres"})
    )
    live_gateway.clock.advance(3)
    status = api.ok(api.get(f"/v1/dependencies/status/{pid}"))["dependencies"]
    assert [(d["id"], d["status"]) for d in status] == [(retry["id"], "running")]


def test_service_stuck_in_building_over_20_min(api: Api, live_gateway) -> None:
    live_gateway.emulator.add_deployment_fault(DeploymentFault(mode="stall", phase="building"))
    pid, sid, temp = api.ready_service()
    did = api.deploy(pid, sid, temp)["id"]
    live_gateway.clock.advance(21 * 60)
    assert api.deployment(did)["status"] == "building"
    tail = api.ok(api.get(f"/v1/deployments/{did}/logs", params={"tail": 200}))
    assert 0 < tail["total"] <= 200
    cancelled = api.ok(api.post(f"/v1/deployments/{did}/cancel"))
    assert cancelled["status"] == "cancelled"


def test_any_5xx(api: Api, live_gateway) -> None:
    httpx.post(
        f"{live_gateway.root_url}/_emulator/faults",
        json={"kind": "error", "route": "/api/v1/deployments/*", "count": 1, "status": 502},
    )
    pid, sid, temp = api.ready_service()
    failed = api.post(
        "/v1/deployments/",
        json={
            "project_id": pid,
            "service_id": sid,
            "environment": "production",
            "source": "zip",
            "temp_file_path": temp,
        },
    )
    assert failed.status_code == 502 and failed.json()["service"] == "deployment-service"
    api.deploy(pid, sid, temp)  # retried once: goes through
