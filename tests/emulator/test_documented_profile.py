"""The `documented` profile answers only what the seed's documents promise: each test pins one
documented-vs-not choice a client could trip on (docs/emulator.md, "Profiles")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from opendeploy_plan.emulator import EmulatorConfig, ManualClock
from opendeploy_plan.emulator.documented import DESCRIPTION_MAX_CHARS
from tests.conftest import LiveGateway, running_gateway
from tests.emulator.helpers import Api, register

PHASES: dict[str, Any] = {
    "pending_seconds": 1.0,
    "analyze_seconds": 2.0,
    "build_seconds": 4.0,
    "deploy_seconds": 2.0,
    "instant_fail_seconds": 0.5,
    "dependency_ready_seconds": 2.0,
    "auto_domain_delay_seconds": 1.0,
    "domain_reconcile_seconds": 1.0,
    "seed": 1234,
}


@pytest.fixture
def documented() -> Iterator[LiveGateway]:
    with running_gateway(clock=ManualClock(), profile="documented", **PHASES) as gateway:
        yield gateway


@pytest.fixture
def api(documented: LiveGateway) -> Api:
    return Api(documented, documented.dashboard_token)


@pytest.fixture
def default_api(live_gateway: LiveGateway) -> Api:
    return Api(live_gateway, live_gateway.dashboard_token)


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown profile"):
        EmulatorConfig(profile="strict")


def test_dependency_status_rows_are_id_and_status_only(api: Api) -> None:
    project = api.project()
    created = api.ok(
        api.post(
            "/v1/dependencies/create",
            json={"project_id": project["id"], "dependency_id": "postgres"},
        )
    )
    # The create answer keeps its documented fields, env_vars included (api-schemas.md 3.2).
    assert set(created) == {
        "id",
        "dependency_id",
        "name",
        "display_name",
        "type",
        "status",
        "environment",
        "env_vars",
        "message",
    }
    assert "DATABASE_URL" in created["env_vars"]
    status = api.ok(api.get(f"/v1/dependencies/status/{project['id']}"))
    assert status == {"dependencies": [{"id": created["id"], "status": "provisioning"}]}


def test_default_profile_keeps_env_vars_in_the_dependency_status(default_api: Api) -> None:
    project = default_api.project()
    body = {"project_id": project["id"], "dependency_id": "redis"}
    default_api.ok(default_api.post("/v1/dependencies/create", json=body))
    rows = default_api.ok(default_api.get(f"/v1/dependencies/status/{project['id']}"))
    assert "REDIS_URL" in rows["dependencies"][0]["env_vars"]


def test_services_read_back_without_dependencies_and_build_variables(api: Api) -> None:
    project = api.project()
    sid = api.service(
        project["id"], dependencies=["worker"], build_variables={"NEXT_PUBLIC_X": "1"}
    )
    temp = api.upload()
    bound = api.bind_source(project["id"], temp)
    listed = api.ok(api.get(f"/v1/projects/{project['id']}/services/"))
    updated = api.ok(api.put(f"/v1/services/{sid}", json={"cpu_request": "250m"}))
    for view in (api.ok(api.get(f"/v1/services/{sid}")), listed["data"][0], updated):
        assert "dependencies" not in view and "build_variables" not in view
        assert view["cpu_limit"] == "1" and view["memory_limit"] == "1Gi"
    assert "dependencies" not in bound["services"][0]
    assert updated["cpu_request"] == "250m"
    assert set(listed) == {"data"}  # only `.data[]` is documented for lists


def test_update_source_copies_the_upload_into_the_project_folder(
    api: Api, documented: LiveGateway
) -> None:
    project = api.project()
    temp = api.upload({"app/main.py": "print(1)\n"})
    bound = api.bind_source(project["id"], temp)
    assert bound["message"] == "Project source updated successfully"
    upload_uuid = Path(temp).parent.name
    folder = documented.emulator.data_dir / "projects" / project["id"] / upload_uuid
    assert Path(bound["source_path"]).parent == folder
    assert (Path(bound["source_path"]) / "app" / "main.py").is_file()
    shown = api.ok(api.get(f"/v1/projects/{project['id']}"))
    assert "original_file_path" not in shown
    with documented.emulator.store.transaction() as tx:
        row = tx.one("SELECT data FROM projects WHERE id=?", (project["id"],))
    original = json.loads(row["data"])["original_file_path"]
    assert original != temp and Path(original).parent == folder and Path(original).is_file()


def test_an_expired_upload_is_signalled_only_by_the_update_source_message(
    api: Api, documented: LiveGateway
) -> None:
    project = api.project()
    first = api.bind_source(project["id"], api.upload())
    temp = api.upload({"new.py": "x = 2\n"})
    documented.emulator.expire_upload(temp)
    again = api.bind_source(project["id"], temp)
    assert again["message"] == "Project source already up to date"
    assert again["source_path"] == first["source_path"]


def test_undocumented_url_forms_and_routes_answer_gins_404(api: Api) -> None:
    pid, sid, _ = api.ready_service()
    api.ok(api.get("/v1/service-domains", params={"service_id": sid}))
    for method, path in (
        ("GET", f"/v1/service-domains/?service_id={sid}"),
        ("POST", "/v1/service-domains/"),
        ("GET", f"/v1/projects/{pid}/deployments/"),
        ("DELETE", f"/v1/services/{sid}"),
    ):
        response = api.http.request(method, path)
        assert (response.status_code, response.text) == (404, "404 page not found"), path
    assert api.ok(api.get(f"/v1/services/{sid}"))["id"] == sid  # the DELETE did nothing


def test_project_deployments_are_served_without_the_slash(api: Api, documented) -> None:
    pid, sid, temp = api.ready_service()
    did = api.wait(api.deploy(pid, sid, temp)["id"])["id"]
    listed = api.get(f"/v1/projects/{pid}/deployments", params={"status": "success"})
    assert listed.status_code == 200, listed.text
    assert set(listed.json()) == {"data"} and listed.json()["data"][0]["id"] == did
    counts = documented.admin("GET", "/requests")["counts"]
    assert counts["GET /api/v1/projects/{project_id}/deployments"] == 1


def test_default_profile_still_serves_the_slashed_forms(default_api: Api) -> None:
    pid, sid, _ = default_api.ready_service()
    assert default_api.get(f"/v1/projects/{pid}/deployments/").status_code == 200
    assert default_api.get("/v1/service-domains/", params={"service_id": sid}).status_code == 200
    assert default_api.delete(f"/v1/services/{sid}").status_code == 200


def test_deployment_records_carry_only_documented_fields(api: Api) -> None:
    pid, sid, temp = api.ready_service()
    created = api.deploy(pid, sid, temp, description="stamp", strategy="rolling")
    assert set(created) == {"id", "status", "project_id", "service_id", "environment", "created_at"}
    done = api.wait(created["id"])
    assert set(done) == {
        "id",
        "project_id",
        "service_id",
        "environment",
        "status",
        "progress",
        "message",
        "error_msg",
        "error_context",
        "temp_file_path",
        "description",
        "created_at",
        "completed_at",
        "runtime_logs_query",
    }
    listed = api.ok(api.get("/v1/deployments/", params={"project_id": pid}))
    assert set(listed) == {"data"} and set(listed["data"][0]) == set(done)


def test_a_long_description_is_cut_to_255_characters(api: Api) -> None:
    pid, sid, temp = api.ready_service()
    stamp = "odplan:" + "x" * 300
    did = api.deploy(pid, sid, temp, description=stamp)["id"]
    read = api.deployment(did)["description"]
    assert read == stamp[:DESCRIPTION_MAX_CHARS] and len(read) == 255


def test_projects_show_only_documented_fields(api: Api) -> None:
    created = api.project(description="d", build_config="{}")
    assert set(created) == {
        "id",
        "name",
        "repo_url",
        "branch",
        "region_id",
        "created_at",
        "source_path",
        "analyze_config",
    }
    assert set(api.ok(api.get("/v1/projects/"))) == {"data"}


def test_domains_and_subdomain_answers_are_documented_shapes(api: Api, documented) -> None:
    pid, sid, temp = api.ready_service()
    api.wait(api.deploy(pid, sid, temp)["id"])
    domain = api.auto_domain(sid)
    assert set(domain) == {
        "id",
        "service_id",
        "project_id",
        "domain",
        "environment",
        "type",
        "status",
        "ssl_enabled",
        "is_primary",
    }
    check = api.ok(api.get("/v1/service-domains/check-subdomain/my-app"))
    assert check == {"available": True, "reason": ""}
    retried = api.ok(api.post(f"/v1/service-domains/{domain['id']}/retry"))
    assert retried == {"status": "reconciling"}


def test_profile_upload_and_register_answers_are_documented_shapes(
    api: Api, documented: LiveGateway
) -> None:
    assert set(api.ok(api.get("/v1/profile"))) == {"id", "email", "plan"}
    response = api.post(
        "/v1/upload/upload-only",
        data={"project_name": "demo", "region_id": api.region_id()},
        files={"project_file": ("s.zip", b"PK\x05\x06" + b"\0" * 18, "application/zip")},
    )
    assert set(api.ok(response)) == {"temp_file_path", "filename", "git_url", "branch", "is_git"}
    guest = register(documented)
    assert set(guest) <= {
        "guest_id",
        "api_key",
        "gateway",
        "bind_sig",
        "name",
        "bind_url",
        "expires_in_seconds",
    }


def test_register_echoes_the_public_url_not_the_called_one(documented: LiveGateway) -> None:
    documented.emulator.config.public_url = "https://gateway.example.test/api"
    guest = register(documented)
    assert guest["gateway"] == "https://gateway.example.test/api"
    assert not documented.base_url.startswith("https://gateway.example.test")


def test_errors_keep_their_envelope(api: Api) -> None:
    missing = api.get("/v1/projects/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json() == {"error": "project not found"}


def test_the_build_log_websocket_is_served_in_the_documented_profile(
    api: Api, documented: LiveGateway
) -> None:
    pid, sid, temp = api.ready_service()
    did = api.wait(api.deploy(pid, sid, temp)["id"])["id"]
    messages = api.build_logs(did)
    assert messages[-1] == {"type": "end", "status": "success"}
    assert httpx.get(f"{documented.base_url}/v1/regions").status_code == 301
