"""Projects, services, env, dependencies and uploads keep what a client needs to read back."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import httpx
import pytest

from opendeploy_plan.emulator import EmulatorConfig, ManualClock, create_app
from opendeploy_plan.emulator.server import serve_in_thread
from opendeploy_plan.platform import DEPENDENCY_TYPES
from tests.emulator.helpers import Api, make_zip


@pytest.fixture
def api(live_gateway) -> Api:
    return Api(live_gateway, live_gateway.dashboard_token)


FULL_SERVICE = {
    "name": "api",
    "type": "web",
    "environment": "staging",
    "language": "python",
    "framework": "fastapi",
    "port": 8000,
    "source_path": "services/api",
    "dockerfile_path": "Dockerfile",
    "build_context": ".",
    "build_command": "make build",
    "build_variables": {"NEXT_PUBLIC_X": "1"},
    "runtime_variables": {"A": "1"},
    "health_check_path": "/healthz",
    "readiness_path": "/ready",
    "cpu_request": "250m",
    "cpu_limit": "2",
    "memory_request": "256Mi",
    "memory_limit": "2Gi",
    "replicas": 2,
    "auto_scaling": True,
    "dependencies": ["worker"],
    "internal_only": True,
}


def test_project_create_returns_the_full_record_and_reads_back(api: Api) -> None:
    project = api.project(name="shop", description="the shop", branch="main")
    assert project["source_path"] == "" and project["analyze_config"] is None
    again = api.ok(api.get(f"/v1/projects/{project['id']}"))
    assert again == project
    assert "token" not in again
    assert api.ok(api.get("/v1/projects/"))["data"] == [project]


def test_project_names_are_dns_labels_and_unique_per_account(api: Api) -> None:
    api.project(name="shop")
    body = {"repo_url": "file://upload", "skip_validation": True}
    assert api.post("/v1/projects/", json={**body, "name": "shop"}).status_code == 409
    assert api.post("/v1/projects/", json={**body, "name": "Shop_1"}).status_code == 400
    assert api.post("/v1/projects/", json={"name": "x"}).json() == {"error": "repo_url is required"}


def test_service_create_answers_with_the_id_and_get_shows_every_field(api: Api) -> None:
    project = api.project()
    created = api.post(f"/v1/projects/{project['id']}/services/", json=FULL_SERVICE)
    assert created.status_code == 201
    body = created.json()
    assert body["message"] == "Service created successfully" and set(body) == {
        "message",
        "service_id",
    }
    service = api.ok(api.get(f"/v1/services/{body['service_id']}"))
    for key, value in FULL_SERVICE.items():
        if key != "runtime_variables":
            assert service[key] == value, key
    listed = api.ok(api.get(f"/v1/projects/{project['id']}/services/"))
    assert listed["data"] == [service]


def test_service_validation_errors_name_the_field(api: Api) -> None:
    pid = api.project()["id"]
    base = {"name": "web", "type": "web", "environment": "production"}
    for change, field in (
        ({"type": "lambda"}, "type"),
        ({"port": 70000}, "port"),
        ({"cpu_limit": "lots"}, "cpu_limit"),
        ({"cpu_request": "2", "cpu_limit": "1"}, "cpu_request"),
        ({"source_path": "../etc"}, "source_path"),
        ({"replicas": 0}, "replicas"),
    ):
        response = api.post(f"/v1/projects/{pid}/services/", json={**base, **change})
        assert response.status_code == 400, change
        assert response.json()["field"] == field
    wrong_type = api.post(f"/v1/projects/{pid}/services/", json={**base, "port": "80"})
    assert wrong_type.json()["error"] == (
        "json: cannot unmarshal string into Go struct field CreateServiceRequest.port of type int"
    )


def test_put_service_is_a_partial_update_of_resources(api: Api) -> None:
    pid = api.project()["id"]
    sid = api.service(pid, env_marker="ignored")
    updated = api.ok(api.put(f"/v1/services/{sid}", json={"cpu_limit": "2", "memory_limit": "4Gi"}))
    assert (updated["cpu_limit"], updated["memory_limit"]) == ("2", "4Gi")
    assert updated["cpu_request"] == "500m" and updated["port"] == 8000
    assert api.ok(api.get(f"/v1/services/{sid}")) == updated


def test_env_put_is_a_full_replace_and_get_returns_it(api: Api) -> None:
    pid = api.project()["id"]
    sid = api.service(pid, runtime_variables={"KEEP": "1", "DROP": "2"})
    url = f"/v1/projects/{pid}/services/{sid}/env"
    first = api.ok(api.get(url))
    assert first["count"] == 2
    replaced = api.ok(api.put(url, json={"variables": {"KEEP": "1", "NEW": "3"}}))
    assert replaced == {
        "service_id": sid,
        "count": 2,
        "variables": [{"key": "KEEP", "value": "1"}, {"key": "NEW", "value": "3"}],
    }
    assert api.ok(api.get(url)) == replaced


def test_env_limits_are_400_and_change_nothing(api: Api) -> None:
    pid = api.project()["id"]
    sid = api.service(pid, runtime_variables={"A": "1"})
    url = f"/v1/projects/{pid}/services/{sid}/env"
    assert api.put(url, json={"variables": {"K" * 128: "v"}}).status_code == 200
    assert api.put(url, json={"variables": {"K" * 129: "v"}}).status_code == 400
    assert api.put(url, json={"variables": {"BIG": "v" * 32 * 1024}}).status_code == 200
    assert api.put(url, json={"variables": {"BIG": "v" * (32 * 1024 + 1)}}).status_code == 400
    assert api.put(url, json={"variables": {"N": 1}}).status_code == 400
    assert api.put(url, json={}).json() == {"error": "variables is required"}
    assert [v["key"] for v in api.ok(api.get(url))["variables"]] == ["BIG"]


@pytest.mark.parametrize("dep_type", DEPENDENCY_TYPES)
def test_dependency_create_returns_connection_env_vars(api: Api, dep_type: str) -> None:
    pid = api.project()["id"]
    dep = api.ok(
        api.post(
            "/v1/dependencies/create",
            json={
                "project_id": pid,
                "dependency_id": dep_type,
                "environment": "production",
                "password": "s3cret",
            },
        )
    )
    assert dep["type"] == dep_type and dep["status"] == "provisioning"
    env = dep["env_vars"]
    url_key = {"redis": "REDIS_URL", "clickhouse": "CLICKHOUSE_URL"}.get(dep_type, "DATABASE_URL")
    assert "s3cret@" in env[url_key]
    prefix = {
        "postgres": "POSTGRES",
        "mysql": "MYSQL",
        "mongodb": "MONGO",
        "redis": "REDIS",
        "clickhouse": "CLICKHOUSE",
    }[dep_type]
    assert env[f"{prefix}_HOST"] in env[url_key] and env[f"{prefix}_PORT"] in env[url_key]
    assert env[f"{prefix}_PASSWORD"] == "s3cret"


def test_dependency_becomes_running_after_the_delay(api: Api, live_gateway) -> None:
    pid = api.project()["id"]
    dep = api.ok(
        api.post("/v1/dependencies/create", json={"project_id": pid, "dependency_id": "postgres"})
    )
    assert dep["environment"] == "staging"
    status = api.ok(api.get(f"/v1/dependencies/status/{pid}"))["dependencies"]
    assert [(d["id"], d["status"]) for d in status] == [(dep["id"], "provisioning")]
    live_gateway.clock.advance(2)
    status = api.ok(api.get(f"/v1/dependencies/status/{pid}"))["dependencies"]
    assert status[0]["status"] == "running" and status[0]["env_vars"] == dep["env_vars"]


def test_unknown_dependency_type_is_400(api: Api) -> None:
    pid = api.project()["id"]
    response = api.post(
        "/v1/dependencies/create", json={"project_id": pid, "dependency_id": "oracle"}
    )
    assert response.status_code == 400


def test_project_delete_drops_everything_beneath_it(api: Api, live_gateway) -> None:
    pid, sid, temp = api.ready_service()
    dep = api.ok(
        api.post("/v1/dependencies/create", json={"project_id": pid, "dependency_id": "redis"})
    )
    did = api.wait(api.deploy(pid, sid, temp)["id"])["id"]
    domain = api.auto_domain(sid)
    api.ok(
        api.put(f"/v1/service-domains/{domain['id']}/subdomain", json={"subdomain": "my-store1"})
    )
    assert api.ok(api.delete(f"/v1/projects/{pid}"))["message"]
    for path in (f"/v1/projects/{pid}", f"/v1/services/{sid}", f"/v1/deployments/{did}"):
        assert api.get(path).status_code == 404
    assert dep["id"]
    assert api.ok(api.get("/v1/service-domains/check-subdomain/my-store1"))["available"] is True


def test_other_accounts_cannot_touch_a_project(api: Api, live_gateway) -> None:
    pid, sid, _ = api.ready_service()
    other = Api(live_gateway, live_gateway.emulator.mint_dashboard_token())
    assert other.get(f"/v1/projects/{pid}").status_code == 403
    assert other.put(f"/v1/services/{sid}", json={"port": 1}).status_code == 403
    assert other.ok(other.get("/v1/projects/"))["total"] == 0


def test_upload_accepts_zip_and_rejects_tar(api: Api) -> None:
    region = api.region_id()
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w:gz") as archive:
        info = tarfile.TarInfo("main.py")
        archive.addfile(info, io.BytesIO(b""))
    rejected = api.post(
        "/v1/upload/upload-only",
        data={"project_name": "d", "region_id": region},
        files={"project_file": ("src.tar.gz", tar_bytes.getvalue())},
    )
    assert rejected.status_code == 400 and "ZIP" in rejected.json()["error"]
    accepted = api.ok(
        api.post(
            "/v1/upload/upload-only",
            data={"project_name": "d", "region_id": region},
            files={"project_file": ("src.zip", make_zip({"a.txt": "1"}))},
        )
    )
    assert Path(accepted["temp_file_path"]).is_file() and accepted["is_git"] is False


def test_upload_needs_a_file_or_git_url_and_an_active_region(api: Api) -> None:
    region = api.region_id()
    assert (
        api.post(
            "/v1/upload/upload-only", data={"project_name": "d", "region_id": region}
        ).status_code
        == 400
    )
    assert api.post("/v1/upload/upload-only", json={"project_name": "d"}).status_code == 400
    zip_file = {"project_file": ("s.zip", make_zip({"a": "b"}))}
    assert (
        api.post("/v1/upload/upload-only", data={"project_name": "d"}, files=zip_file).status_code
        == 400
    )


def test_upload_streams_a_large_file_to_disk(api: Api) -> None:
    payload = make_zip({"big.bin": "x" * (8 * 1024 * 1024)})

    def chunks():  # type: ignore[no-untyped-def]
        boundary = "odplanboundary"
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="project_name"\r\n\r\n'
            f'big\r\n--{boundary}\r\nContent-Disposition: form-data; name="region_id"\r\n'
            f"\r\n{api.region_id()}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            'name="project_file"; filename="big.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        for i in range(0, len(payload), 65536):
            yield payload[i : i + 65536]
        yield f"\r\n--{boundary}--\r\n".encode()

    response = api.post(
        "/v1/upload/upload-only",
        content=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=odplanboundary"},
    )
    body = api.ok(response)
    assert body["size"] == len(payload)
    assert Path(body["temp_file_path"]).read_bytes() == payload


def test_update_source_extracts_the_zip_and_records_the_analysis(api: Api) -> None:
    pid = api.project()["id"]
    temp = api.upload({"web/main.py": "print(1)", "README.md": "hi"})
    result = api.bind_source(pid, temp, analysis={"language": "python"})
    assert result["message"] == "Project source updated successfully"
    source = Path(result["source_path"])
    assert (source / "web" / "main.py").read_text() == "print(1)"
    project = api.ok(api.get(f"/v1/projects/{pid}"))
    assert project["source_path"] == str(source) and project["original_file_path"] == temp
    assert project["analyze_config"] == '{"language": "python"}'


def test_update_source_with_an_expired_upload(api: Api, live_gateway) -> None:
    pid = api.project()["id"]
    temp = api.upload()
    live_gateway.clock.advance(3601)
    response = api.post(
        "/v1/upload/update-source", json={"project_id": pid, "temp_file_path": temp}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("Uploaded file not found or expired")
    fresh = api.upload()
    api.bind_source(pid, fresh)
    live_gateway.clock.advance(3601)
    again = api.bind_source(pid, fresh)
    assert again["message"] == "Project source already up to date"


def test_update_source_refuses_paths_it_did_not_issue(api: Api) -> None:
    pid = api.project()["id"]
    response = api.post(
        "/v1/upload/update-source", json={"project_id": pid, "temp_file_path": "/etc/passwd"}
    )
    assert response.status_code == 400


def test_zip_members_that_escape_the_root_are_refused(api: Api) -> None:
    pid = api.project()["id"]
    temp = api.upload({"../evil.txt": "x"})
    response = api.post(
        "/v1/upload/update-source", json={"project_id": pid, "temp_file_path": temp}
    )
    assert response.status_code == 400
    assert api.ok(api.get(f"/v1/projects/{pid}"))["source_path"] == ""


def test_state_survives_a_restart_with_a_file_database(tmp_path: Path) -> None:
    clock = ManualClock()
    db = str(tmp_path / "gateway.db")
    app = create_app(EmulatorConfig(db_path=db, clock=clock, build_seconds=1))
    token = app.state.emulator.mint_dashboard_token()
    headers = {"Authorization": f"Bearer {token}"}
    with serve_in_thread(app) as root:
        created = httpx.post(
            f"{root}/api/v1/projects/",
            headers=headers,
            json={"name": "kept", "repo_url": "file://upload", "skip_validation": True},
        )
        assert created.status_code == 201
    app.state.emulator.store.close()
    reopened = create_app(EmulatorConfig(db_path=db, clock=clock))
    with serve_in_thread(reopened) as root:
        listed = httpx.get(f"{root}/api/v1/projects/", headers=headers).json()
        regions = httpx.get(f"{root}/api/v1/regions/", headers=headers).json()
    assert [p["name"] for p in listed["data"]] == ["kept"]
    assert created.json()["region_id"] == regions[0]["id"]


def test_concurrent_creates_of_one_name_yield_exactly_one_project(api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    body = {"name": "race", "repo_url": "file://upload", "skip_validation": True}
    with ThreadPoolExecutor(8) as pool:
        codes = sorted(
            pool.map(
                lambda _: (
                    httpx.post(
                        f"{api.gateway.base_url}/v1/projects/",
                        json=body,
                        headers={"Authorization": api.http.headers["Authorization"]},
                    ).status_code
                ),
                range(8),
            )
        )
    assert codes == [201] + [409] * 7
    assert api.ok(api.get("/v1/projects/"))["total"] == 1


def test_git_repositories_are_validated_unless_skipped(api: Api, live_gateway) -> None:
    body = {"name": "gitapp", "repo_url": "https://git.example.com/acme/app.git", "branch": "dev"}
    unknown = api.post("/v1/projects/", json=body)
    assert unknown.status_code == 400 and unknown.json()["error_code"] == "repository_not_found"
    live_gateway.emulator.add_git_repo(body["repo_url"], {"branches": ["main", "dev"]})
    assert api.ok(api.post("/v1/projects/", json=body), 201)["branch"] == "dev"


def test_service_container_logs_after_a_deploy(api: Api) -> None:
    pid, sid, temp = api.ready_service()
    api.wait(api.deploy(pid, sid, temp)["id"])
    logs = api.ok(api.get(f"/v1/projects/{pid}/services/{sid}/logs"))
    assert logs["total"] == 1 and "listening on 0.0.0.0:8000" in logs["logs"][0]["message"]
    with api.http.stream("GET", f"/v1/projects/{pid}/services/{sid}/logs/stream") as stream:
        assert "listening" in stream.read().decode()


@pytest.mark.parametrize("prefix", ["a", "x" * 33, "-ab", "ab-", "Upper", "dots.no", "under_s"])
def test_malformed_subdomains_are_400_on_check_and_rename(api: Api, prefix: str) -> None:
    pid, sid, temp = api.ready_service()
    api.wait(api.deploy(pid, sid, temp)["id"])
    domain = api.auto_domain(sid)
    assert api.get(f"/v1/service-domains/check-subdomain/{prefix}").status_code == 400
    rename = api.put(f"/v1/service-domains/{domain['id']}/subdomain", json={"subdomain": prefix})
    assert rename.status_code == 400


def test_reserved_subdomains_are_unavailable_and_cannot_be_taken(api: Api) -> None:
    pid, sid, temp = api.ready_service()
    api.wait(api.deploy(pid, sid, temp)["id"])
    domain = api.auto_domain(sid)
    for prefix in ("www", "api", "grafana", "staging"):
        check = api.ok(api.get(f"/v1/service-domains/check-subdomain/{prefix}"))
        assert check == {"subdomain": prefix, "available": False, "reason": "reserved"}
        rename = api.put(
            f"/v1/service-domains/{domain['id']}/subdomain", json={"subdomain": prefix}
        )
        assert rename.status_code == 400 and rename.json()["reason"] == "reserved"
    bounds = ("ab", "a" * 32)
    for prefix in bounds:
        assert api.ok(api.get(f"/v1/service-domains/check-subdomain/{prefix}"))["available"]


def test_admin_api_forces_a_dependency_failure(api: Api, live_gateway) -> None:
    pid = api.project()["id"]
    dep = api.ok(
        api.post("/v1/dependencies/create", json={"project_id": pid, "dependency_id": "mysql"})
    )
    forced = httpx.post(
        f"{live_gateway.root_url}/_emulator/dependencies/{dep['id']}/fail",
        json={"reason": "disk quota"},
    )
    assert forced.status_code == 200
    live_gateway.clock.advance(60)
    status = api.ok(api.get(f"/v1/dependencies/status/{pid}"))["dependencies"][0]
    assert (status["status"], status["message"]) == ("failed", "disk quota")


def test_an_upload_is_bound_only_by_the_tenant_that_parked_it(api: Api, live_gateway) -> None:
    other = Api(live_gateway, live_gateway.emulator.mint_dashboard_token())
    temp = other.upload()
    project = api.project()
    response = api.post(
        "/v1/upload/update-source", json={"project_id": project["id"], "temp_file_path": temp}
    )
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden: this upload belongs to another account"}
