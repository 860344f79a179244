"""Support for the `odplan apply` end-to-end tests: a local gateway on a real clock with
sub-second phases (uvicorn on 127.0.0.1), `odplan` run as a real child process with HOME, the
auth file and the audit log in temp dirs, and a census of live rows (through the public API)
that proves apply never duplicated anything."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opendeploy_plan.gateway import WAIT_SCALE_ENV, GatewayClient
from opendeploy_plan.plan.stamp import parse_stamp
from tests.conftest import FAST_PHASES, LiveGateway, running_gateway

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"

# Planted as every secret the examples reference: it must never appear in any output or file.
CANARY = "canary-5be1d07c-apply-never-prints"
SECRET_NAMES = ("DJANGO_SECRET_KEY", "JOBS_API_TOKEN", "SHORTENER_ADMIN_TOKEN", "SHOP_API_TOKEN")

# The child process's own waits (retry backoff, the playbook's 5 s, the 2-5 s poll pace) at a
# tenth: the phases are sub-second too. Tests of the pace itself drop it (`extra_env`).
FAST_WAITS = {WAIT_SCALE_ENV: "0.1"}

# The gateway on the system clock with sub-second phases (shared with the other e2e rooms).
RealGateway = LiveGateway

# The emulator's profiles: its own fuller answers, and only what the documents promise (issue
# 14). The core flows run against both (the `profile` fixture of tests/e2e/conftest.py).
PROFILES = ("default", "documented")


@contextmanager
def real_gateway(**overrides: Any) -> Iterator[RealGateway]:
    """A fresh `:memory:` gateway served on an ephemeral 127.0.0.1 port, real clock."""
    with running_gateway(**{**FAST_PHASES, "seed": 7, **overrides}) as gateway:
        yield gateway


def copy_example(name: str, dest: Path) -> Path:
    """Copy `examples/NAME` (without its local caches) to `dest`; return the manifest path."""
    shutil.copytree(EXAMPLES / name, dest, ignore=shutil.ignore_patterns(".opendeploy"))
    return dest / "opendeploy.yaml"


def example_odplan(gateway: RealGateway, tmp_path: Path, example: str) -> Odplan:
    """`odplan` with a private HOME under `tmp_path` on a copy of `examples/EXAMPLE`."""
    home = tmp_path / "home"
    home.mkdir()
    return Odplan(gateway, home, copy_example(example, tmp_path / "app"))


@dataclass
class Odplan:
    """`odplan` as a real child process against one gateway, with a private HOME."""

    gateway: RealGateway
    home: Path
    manifest: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OD_", "OPDEPLOY_"))}
        env.update(
            {
                "HOME": str(self.home),
                "OPDEPLOY_AUTH_FILE": str(self.home / "auth.json"),
                "OPDEPLOY_LOG_DIR": str(self.home / "logs"),
                "OD_API_KEY": self.gateway.dashboard_token,
                "OD_GATEWAY": self.gateway.base_url,
                "NO_COLOR": "1",
                **FAST_WAITS,
                **{name: CANARY for name in SECRET_NAMES},
                **self.extra_env,
            }
        )
        return env

    def argv(self, command: str, *args: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "opendeploy_plan",
            command,
            *args,
            "--file",  # not -f: `logs -f` means --follow
            str(self.manifest),
            "--gateway",
            self.gateway.base_url,
        ]

    def run(
        self, command: str, *args: str, timeout: float = 120, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(command, *args),
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.manifest.parent,
            timeout=timeout,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            check=False,
        )

    def apply(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.run("apply", "--auto-approve", *args, timeout=timeout)

    def plan(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("plan", *args)

    def popen(self, command: str, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.argv(command, *args),
            env=self.env,
            cwd=self.manifest.parent,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def client(self) -> GatewayClient:
        return GatewayClient(self.gateway.base_url, self.gateway.dashboard_token)

    def audit_text(self) -> str:
        logs = self.home / "logs"
        return "".join(p.read_text() for p in sorted(logs.rglob("*")) if p.is_file())

    def census(self, project: str, environment: str = "production") -> Census:
        async def go() -> Census:
            async with self.client() as client:
                return await take_census(client, project, environment, self._dependency_names())

        return asyncio.run(go())

    def _dependency_names(self) -> dict[str, str]:
        """`{id: name}` from the emulator's own rows: the documented profile's status rows are
        `{id, status}`, and a census must not trust odplan's hint file to name them."""
        with self.gateway.emulator.store.transaction() as tx:
            rows = tx.all("SELECT id, data FROM dependencies")
        return {row["id"]: json.loads(row["data"]).get("display_name", "") for row in rows}


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@dataclass
class DeploymentRow:
    service: str
    id: str
    status: str
    change: tuple[str, str, str] | None  # (project, service, config) digests of the stamp
    run_id: str | None


@dataclass
class Census:
    """Every live row of one project, counted by name: what duplicates would show up in."""

    projects: int
    services: Counter[str]
    dependencies: Counter[str]
    deployments: list[DeploymentRow]

    def duplicates(self) -> list[str]:
        """What appears more than once: empty after a correct apply, however often it ran."""
        problems = []
        if self.projects > 1:
            problems.append(f"{self.projects} projects with the same name")
        problems += [f"service {n} x{c}" for n, c in self.services.items() if c > 1]
        problems += [f"dependency {n} x{c}" for n, c in self.dependencies.items() if c > 1]
        runs = Counter((d.service, d.run_id) for d in self.deployments if d.run_id)
        problems += [f"{s}: run {r} started {c} deployments" for (s, r), c in runs.items() if c > 1]
        successes = Counter(
            (d.service, d.change) for d in self.deployments if d.status == "success" and d.change
        )
        problems += [
            f"{s}: {c} successful deployments of the same change {change}"
            for (s, change), c in successes.items()
            if c > 1
        ]
        unstamped = [d.id for d in self.deployments if d.change is None]
        problems += [f"deployment {i} has no odplan stamp" for i in unstamped]
        return problems

    def successful(self, service: str) -> int:
        return sum(1 for d in self.deployments if d.service == service and d.status == "success")


async def take_census(
    client: GatewayClient,
    project: str,
    environment: str = "production",
    dependency_names: dict[str, str] | None = None,
) -> Census:
    """The project's rows in `environment` (rows that name no environment count in all)."""

    def ours(row_environment: str) -> bool:
        return row_environment in ("", environment)

    projects = [p for p in await client.list_projects() if p.name == project]
    if not projects:
        return Census(0, Counter(), Counter(), [])
    project_id = projects[0].id
    services = [s for s in await client.list_services(project_id) if ours(s.environment)]
    names = {s.id: s.name for s in services}
    status = await client.dependency_status(project_id)
    dependencies = [d for d in status.dependencies if ours(d.environment)]
    rows = []
    for d in await client.list_deployments(project_id=project_id):
        if d.service_id not in names:
            continue
        stamp = parse_stamp(d.description)
        change = (
            (stamp.project_digest, stamp.service_digest, stamp.config_digest or "")
            if stamp
            else None
        )
        rows.append(
            DeploymentRow(
                names.get(d.service_id, d.service_id),
                d.id,
                d.status,
                change,
                stamp.run_id if stamp else None,
            )
        )
    return Census(
        len(projects),
        Counter(s.name for s in services),
        Counter(
            d.display_name or d.name or (dependency_names or {}).get(d.id, d.id)
            for d in dependencies
        ),
        rows,
    )


def apply_until_clean(
    odplan: Odplan, max_runs: int, *extra: str
) -> list[subprocess.CompletedProcess[str]]:
    """Run `odplan apply` until it exits 0 (at most `max_runs` times); return every run."""
    runs: list[subprocess.CompletedProcess[str]] = []
    for _ in range(max_runs):
        runs.append(odplan.apply(*extra, timeout=300))
        if runs[-1].returncode == 0:
            break
    return runs


def assert_no_canary(texts: Sequence[str], home: Path | None = None) -> None:
    """The planted secret appears in none of `texts` nor in any file under `home`."""
    for text in texts:
        assert CANARY not in text
    if home is not None:
        for path in home.rglob("*"):
            if path.is_file():
                assert CANARY.encode() not in path.read_bytes(), path


SHOP_MANIFEST = """\
version: 1
project:
  name: {project}
  description: Three services, PostgreSQL and Redis
dependencies:
  db:
    type: postgres
    database_name: shop
  cache:
    type: redis
services:
  api:
    type: web
    source: api
    language: python
    port: 8080
    dockerfile: Dockerfile
    uses: [db, cache]
    env:
      API_TOKEN: ${{{{ secrets.SHOP_API_TOKEN }}}}
      LOG_LEVEL: info
    subdomain: {project}-api
  worker:
    type: worker
    source: worker
    language: python
    dockerfile: Dockerfile
    after: [api]
    uses: [db]
    env:
      POLL_SECONDS: 2
  admin:
    type: web
    source: admin
    language: python
    port: 8081
    dockerfile: Dockerfile
    uses: [cache]
"""


def write_shop(root: Path, project: str = "shop") -> Path:
    """A three-service app (api with a subdomain, worker `after: [api]`, independent admin)
    on PostgreSQL and Redis; returns the manifest path."""
    for folder in ("api", "worker", "admin"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
        (root / folder / "main.py").write_text(f"print('hello from {folder}')\n")
    path = root / "opendeploy.yaml"
    path.write_text(SHOP_MANIFEST.format(project=project))
    return path


def uploads(odplan: Odplan) -> list[str]:
    """The temp paths of every upload-only odplan has logged, oldest first."""
    lines = [json.loads(line) for line in odplan.audit_text().splitlines() if line.strip()]
    return [e["temp_file_path"] for e in lines if e.get("step") == "deploy.upload_only"]


def apply_while_the_upload_expires(
    odplan: Odplan,
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`odplan apply` whose first upload expires before update-source binds it: the next
    update-source is held for 1.5 s while a watcher expires the run's upload (the second in the
    audit log: the first apply made the first). Returns the run and the expired temp paths."""
    gateway = odplan.gateway
    gateway.add_fault(
        kind="latency",
        method="POST",
        route="/api/v1/upload/update-source",
        latency_ms=1500,
        count=1,
    )
    expired: list[str] = []

    def expire_this_runs_first_upload() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            seen = uploads(odplan)
            if len(seen) >= 2:
                gateway.admin("POST", "/uploads/expire", {"temp_file_path": seen[1]})
                expired.append(seen[1])
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=expire_this_runs_first_upload)
    watcher.start()
    applied = odplan.apply()
    watcher.join()
    return applied, expired
