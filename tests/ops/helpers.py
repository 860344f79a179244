"""Test helpers: run odplan in-process, and create a project the way the opendeploy skill does
(its documented curl calls, here through httpx), with no odplan involved."""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner, Result

from opendeploy_plan.cli import main
from opendeploy_plan.emulator import DeploymentFault

SECRET_CANARY = "sk_live_canary_0f1e2d3c4b5a69788796a5b4"


@dataclass
class Gateway:
    """A running gateway and where the CLI's audit log goes."""

    base_url: str
    token: str
    emulator: Any
    log_dir: Path

    def audit_lines(self) -> list[str]:
        return [
            line
            for path in sorted(self.log_dir.glob("*.log"))
            for line in path.read_text().splitlines()
        ]


def odplan(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    """Run one odplan command in-process, as a user would type it."""
    return CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)


def write_app(folder: Path, version: str = "1") -> Path:
    """A tiny FastAPI app, like the skill's own test flow deploys."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.py").write_text(
        f"from fastapi import FastAPI\napp = FastAPI()\nVERSION = {version!r}\n"
    )
    (folder / "requirements.txt").write_text("fastapi\nuvicorn\n")
    return folder


def zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


@dataclass
class SkillProject:
    """What the skill's flow created."""

    project_id: str
    project_name: str
    region_id: str
    service_id: str
    dependency_id: str
    deployment_id: str
    temp_file_path: str
    subdomain: str


class Skill:
    """The opendeploy skill's API calls (setup.md, deploy.md, domain.md, operate.md)."""

    def __init__(self, gateway: Gateway) -> None:
        self.http = httpx.Client(
            base_url=gateway.base_url + "/",
            headers={"Authorization": f"Bearer {gateway.token}"},
            timeout=10,
        )

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def first_deploy(
        self,
        app: Path,
        *,
        name: str = "shop",
        subdomain: str = "shop-app",
        extra_env: dict[str, str] | None = None,
    ) -> SkillProject:
        region = next(r for r in self.call("GET", "v1/regions/") if r["status"] == "active")
        project = self.call(
            "POST",
            "v1/projects/",
            json={
                "name": name,
                "repo_url": "file://upload",
                "branch": "main",
                "region_id": region["id"],
                "skip_validation": True,
            },
        )
        dependency = self.call(
            "POST",
            "v1/dependencies/create",
            json={
                "project_id": project["id"],
                "dependency_id": "postgres",
                "environment": "production",
            },
        )
        runtime = {
            "PORT": "8000",
            "API_KEY": SECRET_CANARY,
            **dependency["env_vars"],
            **(extra_env or {}),
        }
        service = self.call(
            "POST",
            f"v1/projects/{project['id']}/services/",
            json={
                "name": "web",
                "type": "web",
                "environment": "production",
                "language": "python",
                "framework": "fastapi",
                "port": 8000,
                "build_variables": {},
                "runtime_variables": runtime,
                "cpu_request": "500m",
                "cpu_limit": "1",
                "memory_request": "512Mi",
                "memory_limit": "1Gi",
                "replicas": 1,
            },
        )
        service_id = service.get("service_id") or service["id"]
        temp_file_path = self.upload(name, region["id"], app)
        self.call(
            "POST",
            "v1/upload/update-source",
            json={
                "project_id": project["id"],
                "temp_file_path": temp_file_path,
                "analysis": {"language": "python", "framework": "fastapi", "port": 8000},
            },
        )
        deployment = self.deploy(project["id"], service_id, temp_file_path, [dependency["id"]])
        self.rename(service_id, subdomain)
        return SkillProject(
            project_id=project["id"],
            project_name=name,
            region_id=region["id"],
            service_id=service_id,
            dependency_id=dependency["id"],
            deployment_id=deployment,
            temp_file_path=temp_file_path,
            subdomain=subdomain,
        )

    def upload(self, name: str, region_id: str, app: Path) -> str:
        answer = self.call(
            "POST",
            "v1/upload/upload-only",
            data={"project_name": name, "region_id": region_id},
            files={"project_file": ("source.zip", zip_folder(app), "application/zip")},
        )
        return str(answer["temp_file_path"])

    def deploy(
        self, project_id: str, service_id: str, temp_file_path: str, dependencies: list[str]
    ) -> str:
        """deploy.md Step 7 (no description: the skill writes no odplan stamp) + the watch."""
        created = self.call(
            "POST",
            "v1/deployments/",
            json={
                "project_id": project_id,
                "service_id": service_id,
                "environment": "production",
                "source": "zip",
                "temp_file_path": temp_file_path,
                "branch": "main",
                "dependencies": dependencies,
            },
        )
        status = self.wait(created["id"])
        assert status == "success", status
        return str(created["id"])

    def wait(self, deployment_id: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = str(self.call("GET", f"v1/deployments/{deployment_id}")["status"])
            if status in ("success", "failed", "cancelled", "rolled_back"):
                return status
            time.sleep(0.05)
        raise AssertionError(f"deployment {deployment_id} did not finish")

    def rename(self, service_id: str, subdomain: str, timeout: float = 10) -> None:
        """domain.md 8.1-8.3: wait for the auto domain row, check, rename."""
        deadline = time.monotonic() + timeout
        rows: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            rows = self.call(
                "GET",
                "v1/service-domains",
                params={"service_id": service_id, "environment": "production", "type": "auto"},
            )
            if rows:
                break
            time.sleep(0.05)
        assert rows, "no auto domain row appeared"
        check = self.call("GET", f"v1/service-domains/check-subdomain/{subdomain}")
        assert check["available"], check
        self.call(
            "PUT", f"v1/service-domains/{rows[0]['id']}/subdomain", json={"subdomain": subdomain}
        )

    def deployments(self, project_id: str) -> list[dict[str, Any]]:
        return list(self.call("GET", "v1/deployments/", params={"project_id": project_id})["data"])


MANIFEST = """\
version: 1
project:
  name: stamped
services:
  web:
    port: 8000
    env:
      LOG_LEVEL: info
"""


def deployments(gateway: Gateway, project: str) -> list[dict[str, object]]:
    headers = {"Authorization": f"Bearer {gateway.token}"}
    with httpx.Client(base_url=gateway.base_url + "/", headers=headers) as http:
        projects = http.get("v1/projects/").json()["data"]
        pid = next(p["id"] for p in projects if p["name"] == project)
        rows = http.get("v1/deployments/", params={"project_id": pid}).json()["data"]
    return sorted(rows, key=lambda d: d["created_at"], reverse=True)


def start_stalled_redeploy(gateway: Gateway) -> str:
    """A deployment that stays `building` until cancelled (started through the API)."""
    gateway.emulator.add_deployment_fault(DeploymentFault(mode="stall", phase="building"))
    return start_deployment(gateway)


def start_deployment(gateway: Gateway) -> str:
    """Start a deployment of `web` through the API; return once it is building."""
    latest = deployments(gateway, "stamped")[0]
    headers = {"Authorization": f"Bearer {gateway.token}"}
    with httpx.Client(base_url=gateway.base_url + "/", headers=headers) as http:
        created = http.post(
            "v1/deployments/",
            json={
                "project_id": latest["project_id"],
                "service_id": latest["service_id"],
                "environment": "production",
                "source": "zip",
                "temp_file_path": latest["temp_file_path"],
            },
        )
        assert created.status_code == 201, created.text
        deployment_id = str(created.json()["id"])
        deadline = time.monotonic() + 10
        while http.get(f"v1/deployments/{deployment_id}").json()["status"] != "building":
            assert time.monotonic() < deadline, "the deployment never reached building"
            time.sleep(0.02)
    return deployment_id
