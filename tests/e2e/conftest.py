"""End-to-end fixtures: run `odplan` against a real local gateway (uvicorn on 127.0.0.1), with
HOME, the auth file and the audit log in temp dirs, and build live state through the public API
the way `odplan apply` would (so `plan` can be checked against it without apply)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from pydantic import SecretStr

from opendeploy_plan.cli import main
from opendeploy_plan.engine.prepare import load, prepare
from opendeploy_plan.gateway import WAIT_SCALE_ENV, GatewayClient
from opendeploy_plan.plan import (
    DesiredState,
    PlanOptions,
    Stamp,
    format_stamp,
    resolve_variables,
    service_config_digest,
)
from opendeploy_plan.source import build_archive
from opendeploy_plan.state.refresh import refresh
from tests.conftest import LiveGateway
from tests.e2e.apply_support import PROFILES

REPO_ROOT = Path(__file__).resolve().parents[2]

# A value planted as a secret: it must never appear in any output or file odplan writes.
CANARY = "canary-7f3a9e51-do-not-print"

MANIFEST = textwrap.dedent(
    """\
    version: 1
    project:
      name: shop
      description: Two services sharing one database
    dependencies:
      db:
        type: postgres
        database_name: shop
    services:
      api:
        type: web
        source: api
        language: python
        port: 8080
        dockerfile: Dockerfile
        resources:
          cpu: {request: 250m, limit: 500m}
          memory: {request: 256Mi, limit: 512Mi}
        uses: [db]
        env:
          API_TOKEN: ${{ secrets.SHOP_API_TOKEN }}
          LOG_LEVEL: info
        subdomain: shop-api-e2e
      worker:
        type: worker
        source: worker
        language: python
        dockerfile: Dockerfile
        after: [api]
        uses: [db]
        env:
          POLL_SECONDS: 2
    """
)

GUEST_MANIFEST = textwrap.dedent(
    """\
    version: 1
    project:
      name: solo
    services:
      web:
        type: web
        source: .
        language: python
        port: 8000
        dockerfile: Dockerfile
        resources:
          cpu: {request: 500m, limit: "2"}
          memory: {request: 512Mi, limit: 2Gi}
    """
)


def write_app(root: Path, manifest: str = MANIFEST) -> Path:
    """A small two-folder app and its manifest under `root`; returns the manifest path."""
    for folder in ("api", "worker"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
        (root / folder / "main.py").write_text(f"print('hello from {folder}')\n")
    (root / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
    (root / "main.py").write_text("print('hello')\n")
    path = root / "opendeploy.yaml"
    path.write_text(manifest)
    return path


@dataclass
class Odplan:
    """Runs `odplan` against one live gateway with a private HOME, auth file and log dir."""

    gateway: LiveGateway
    home: Path
    manifest: Path
    env: dict[str, str] = field(default_factory=dict)

    def invoke(self, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
        """`odplan ARGS` in-process (click's CliRunner), stdout and stderr kept apart."""
        runner = CliRunner()
        merged: dict[str, str | None] = {**self.env, **(env or {})}
        return runner.invoke(main, list(args), env=merged, catch_exceptions=True)

    def plan(self, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
        """`odplan plan -f MANIFEST --gateway URL ARGS`."""
        return self.invoke(
            "plan", "-f", str(self.manifest), "--gateway", self.gateway.base_url, *args, env=env
        )

    def subprocess(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`odplan ARGS` as a real child process (its own interpreter, its own event loop)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OD_", "OPDEPLOY_"))}
        env.update(self.env)
        return subprocess.run(
            [sys.executable, "-m", "opendeploy_plan", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.manifest.parent,
            timeout=60,
            check=False,
        )

    def client(self, token: str | None = None) -> GatewayClient:
        return GatewayClient(self.gateway.base_url, token or self.gateway.dashboard_token)

    def run(self, coro_fn: Callable[[GatewayClient], Any], token: str | None = None) -> Any:
        """Run `await coro_fn(client)` with a fresh client (tests are sync; the CLI is too)."""

        async def go() -> Any:
            async with self.client(token) as client:
                return await coro_fn(client)

        return asyncio.run(go())

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """The emulator's admin API (`/_emulator/...`), not part of the platform."""
        response = httpx.request(method, f"{self.gateway.root_url}/_emulator{path}", json=body)
        response.raise_for_status()
        return response.json()


def cli_env(home: Path, base_url: str, token: str) -> dict[str, str]:
    """HOME, log dir and credential for one test; the auth file is never the user's."""
    return {
        "HOME": str(home),
        "OPDEPLOY_AUTH_FILE": str(home / "auth.json"),
        "OPDEPLOY_LOG_DIR": str(home / "logs"),
        "OD_API_KEY": token,
        "OD_GATEWAY": base_url,
        "OD_ENVIRONMENT": "",
        "NO_COLOR": "1",
        "SHOP_API_TOKEN": CANARY,
        WAIT_SCALE_ENV: "0.1",  # the client's own waits at a tenth (docs/ci.md)
    }


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    """Each emulator profile in turn: a test taking `profile` runs against both."""
    return str(request.param)


@pytest.fixture
def odplan(live_gateway: LiveGateway, tmp_path: Path) -> Iterator[Odplan]:
    home = tmp_path / "home"
    home.mkdir()
    manifest = write_app(tmp_path / "app")
    yield Odplan(
        live_gateway,
        home,
        manifest,
        cli_env(home, live_gateway.base_url, live_gateway.dashboard_token),
    )


# --- building live state through the public API, the way apply does --------------------------


async def desired_state(
    client: GatewayClient,
    manifest: Path,
    process_env: Mapping[str, str],
    environment: str | None = None,
) -> DesiredState:
    """The manifest resolved by the engine (secrets from `process_env`)."""
    loaded = load(manifest, environment or "production")
    prepared = await prepare(client, loaded, PlanOptions(), process_env=process_env)
    assert prepared.resolution is not None and prepared.resolution.desired is not None, [
        d.format_long() for d in prepared.diagnostics
    ]
    return prepared.resolution.desired


async def apply_by_hand(
    client: GatewayClient,
    manifest: Path,
    process_env: Mapping[str, str],
    advance: Callable[[float], None],
    *,
    work_dir: Path,
    run_id: str = "e2e-run",
    environment: str | None = None,
) -> DesiredState:
    """Create the manifest's project through the public API as `odplan apply` would: project,
    dependencies, services with their env, upload-only + update-source of the archive, stamped
    deployments, wait for success and the auto domain, rename subdomains. `advance` moves the
    emulator's clock."""
    desired = await desired_state(client, manifest, process_env, environment)
    region = await client.active_region()
    project = await client.create_project(
        desired.project, region_id=region.id, description=desired.description
    )
    for key, dep in desired.dependencies.items():
        await client.create_dependency(
            project.id,
            dep.type,
            environment=desired.environment,
            template_id=dep.template,
            display_name=key,
            database_name=dep.database_name,
            username=dep.username,
        )
    advance(5.0)
    status = await client.dependency_status(project.id)
    dependency_env = {
        (d.display_name or d.name): {k: SecretStr(v) for k, v in d.env_vars.items()}
        for d in status.dependencies
    }
    service_ids: dict[str, str] = {}
    for name, svc in desired.services.items():
        spec: dict[str, Any] = {
            "name": name,
            "type": svc.type,
            "environment": desired.environment,
            **svc.settings(),
            "dependencies": list(svc.after),
            "runtime_variables": resolve_variables(
                svc.env, svc.uses, dependency_env, {}, svc.env_policy
            ),
            "build_variables": resolve_variables(
                svc.build_env, (), dependency_env, {}, svc.env_policy
            ),
        }
        created = await client.create_service(project.id, spec)
        service_ids[name] = created.service_id
    archive = build_archive(
        manifest.parent,
        work_dir / f"{desired.project}.zip",
        {n: s.source_path for n, s in desired.services.items() if s.source_path is not None},
    )
    upload = await client.upload_only(
        archive.path, project_name=desired.project, region_id=region.id
    )
    await client.update_source(project.id, upload.temp_file_path)
    observed = await refresh(client, desired.project, desired.environment)
    for name, svc in desired.services.items():
        config = service_config_digest(svc, observed.services[name], dependency_env)
        stamp = Stamp(desired.source.digest, desired.service_digest(name), run_id, config)
        await client.create_deployment(
            project.id,
            service_ids[name],
            environment=desired.environment,
            temp_file_path=upload.temp_file_path,
            description=format_stamp(stamp, f"odplan deploy of {name}"),
        )
    advance(60.0)
    for name, svc in desired.services.items():
        if svc.subdomain is None:
            continue
        domains = await client.list_service_domains(
            service_ids[name], environment=desired.environment, type="auto"
        )
        assert domains, f"no auto domain for {name}"
        await client.rename_subdomain(domains[0].id, svc.subdomain)
    return desired


@pytest.fixture
def applied(odplan: Odplan, tmp_path: Path) -> Odplan:
    """`odplan` after the manifest's project was created live, as apply would leave it."""
    odplan.run(
        lambda client: apply_by_hand(
            client, odplan.manifest, odplan.env, odplan.gateway.advance, work_dir=tmp_path
        )
    )
    return odplan


async def live_ids(client: GatewayClient, project: str, service: str) -> tuple[str, str]:
    """(project id, service id) of a live service, found by name."""
    found = await client.find_project_by_name(project)
    assert found is not None
    row = await client.find_service_by_name(found.id, service)
    assert row is not None
    return found.id, row.id


def assert_no_canary(*texts: str, home: Path | None = None) -> None:
    """The planted secret appears in none of `texts` nor in any file under `home`."""
    for text in texts:
        assert CANARY not in text
    if home is not None:
        for path in home.rglob("*"):
            if path.is_file():
                assert CANARY.encode() not in path.read_bytes(), path


def addresses(document: Mapping[str, Any], section: str = "actions") -> dict[str, str]:
    """address → action kind of a `--json` plan document's `actions` (or `drift`)."""
    return {item["address"]: item["action"] for item in document[section]}
