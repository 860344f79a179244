"""Test helpers: a small synchronous HTTP client for the live local gateway and source ZIPs."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import httpx

from opendeploy_plan.platform import TERMINAL_DEPLOYMENT_STATUSES

ANALYSIS = {"language": "python", "framework": "fastapi", "port": 8000}


def make_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


class Api:
    """The documented calls, over real HTTP, with one token."""

    def __init__(self, gateway: Any, token: str | None = None, user_agent: str = "tests") -> None:
        self.gateway = gateway
        headers = {"User-Agent": user_agent}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=gateway.base_url, headers=headers, timeout=30)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.put(path, **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.patch(path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.delete(path, **kw)

    def build_logs(self, deployment_id: str) -> list[dict[str, Any]]:
        """Every message of the build-log WebSocket, read until the server closes it."""
        from websockets.sync.client import connect

        url = self.gateway.base_url.replace("http", "ws", 1)
        headers = {"Authorization": self.http.headers.get("Authorization", "")}
        path = f"{url}/v1/deployments/{deployment_id}/build-logs/stream"
        with connect(path, additional_headers=headers, open_timeout=30) as socket:
            return [json.loads(message) for message in socket]

    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, (response.status_code, response.text)
        return response.json()

    def region_id(self, environment: str | None = None) -> str:
        regions = self.ok(self.get("/v1/regions/"))
        active = [r for r in regions if r["status"] == "active"]
        if environment:
            active = [r for r in active if r["environment"] == environment]
        return str(active[0]["id"])

    def project(self, name: str = "demo", **fields: Any) -> dict[str, Any]:
        body = {
            "name": name,
            "repo_url": "file://upload",
            "skip_validation": True,
            "region_id": self.region_id(),
            **fields,
        }
        result: dict[str, Any] = self.ok(self.post("/v1/projects/", json=body), 201)
        return result

    def service(self, project_id: str, name: str = "web", **fields: Any) -> str:
        body = {
            "name": name,
            "type": "web",
            "environment": "production",
            "port": 8000,
            "cpu_request": "500m",
            "cpu_limit": "1",
            "memory_request": "512Mi",
            "memory_limit": "1Gi",
            "replicas": 1,
            **fields,
        }
        created = self.ok(self.post(f"/v1/projects/{project_id}/services/", json=body), 201)
        return str(created["service_id"])

    def upload(self, files: dict[str, str] | None = None, name: str = "demo") -> str:
        archive = make_zip(files if files is not None else {"main.py": "print('hi')\n"})
        response = self.post(
            "/v1/upload/upload-only",
            data={"project_name": name, "region_id": self.region_id()},
            files={"project_file": ("source.zip", archive, "application/zip")},
        )
        return str(self.ok(response)["temp_file_path"])

    def bind_source(self, project_id: str, temp: str, analysis: Any = ANALYSIS) -> Any:
        body: dict[str, Any] = {"project_id": project_id, "temp_file_path": temp}
        if analysis is not None:
            body["analysis"] = analysis
        return self.ok(self.post("/v1/upload/update-source", json=body))

    def deploy(
        self,
        project_id: str,
        service_id: str,
        temp: str = "/tmp/x.zip",
        environment: str = "production",
        **fields: Any,
    ) -> dict[str, Any]:
        body = {
            "project_id": project_id,
            "service_id": service_id,
            "environment": environment,
            "source": "zip",
            "temp_file_path": temp,
            **fields,
        }
        result: dict[str, Any] = self.ok(self.post("/v1/deployments/", json=body), 201)
        return result

    def deployment(self, deployment_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.ok(self.get(f"/v1/deployments/{deployment_id}"))
        return result

    def wait(self, deployment_id: str, step: float = 0.5, limit: float = 600) -> dict[str, Any]:
        """Advance the gateway's clock until the deployment is terminal."""
        moved = 0.0
        while True:
            current = self.deployment(deployment_id)
            if current["status"] in TERMINAL_DEPLOYMENT_STATUSES or moved >= limit:
                return current
            self.gateway.clock.advance(step)
            moved += step

    def ready_service(
        self,
        files: dict[str, str] | None = None,
        environment: str = "production",
        **service_fields: Any,
    ) -> tuple[str, str, str]:
        """Project + service + upload + update-source: (project_id, service_id, temp path)."""
        project = self.project()
        sid = self.service(project["id"], environment=environment, **service_fields)
        temp = self.upload(files)
        self.bind_source(project["id"], temp)
        return project["id"], sid, temp

    def auto_domain(self, service_id: str, environment: str = "production") -> dict[str, Any]:
        self.gateway.clock.advance(5)
        rows = self.ok(
            self.get(
                "/v1/service-domains",
                params={"service_id": service_id, "environment": environment, "type": "auto"},
            )
        )
        assert rows, "the auto domain row should exist after the delay"
        result: dict[str, Any] = rows[0]
        return result


def register(gateway: Any, user_agent: str = "tests", **body: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{gateway.base_url}/v1/client-guests/register",
        json=body,
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def guest_api(gateway: Any, user_agent: str = "tests") -> tuple[Api, dict[str, Any]]:
    registered = register(gateway, user_agent=user_agent, source_hint="tests/Linux")
    return Api(gateway, registered["api_key"]), registered
