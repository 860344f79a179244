"""A local gateway that can be made to lie, and `odplan` run in-process against it.

The emulator keeps every change it accepts; to prove that apply's read-back catches a gateway
that does *not*, `Tamper` wraps the emulator's ASGI app (the emulator itself is untouched) and,
per method and path, can answer a request without performing it (`swallow`), rewrite its JSON
body before the emulator sees it (`rewrite`), or run something first (`before`). Everything
else goes through, the emulator's own faults (`/_emulator/faults`) included. The stack is served
by uvicorn on an ephemeral 127.0.0.1 port: odplan talks real HTTP to it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from opendeploy_plan.cli import main
from opendeploy_plan.gateway import GatewayClient
from tests.conftest import FAST_PHASES

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class _Rule:
    kind: str  # "swallow", "rewrite" or "before"
    method: str
    path: re.Pattern[str]
    count: int | None  # fires this often, then is gone; None: always
    answer: Any = None  # swallow: the JSON body to answer with (status 200)
    change: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # rewrite
    action: Callable[[re.Match[str]], Awaitable[None]] | None = None  # before
    fired: int = 0


class Tamper:
    """ASGI middleware around the emulator: a gateway that accepts changes and drops them."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.rules: list[_Rule] = []

    def swallow(self, method: str, path: str, answer: Any = None, count: int | None = 1) -> None:
        """Answer `method path` (a regex on the concrete path) 200 without performing it."""
        self.rules.append(_Rule("swallow", method, re.compile(path), count, answer=answer or {}))

    def rewrite(
        self,
        method: str,
        path: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
        count: int | None = 1,
    ) -> None:
        """Perform `method path` with its JSON body passed through `change` first."""
        self.rules.append(_Rule("rewrite", method, re.compile(path), count, change=change))

    def before(
        self,
        method: str,
        path: str,
        action: Callable[[re.Match[str]], Awaitable[None]],
        count: int | None = 1,
    ) -> None:
        """Run `action` (given the path match) before the emulator sees `method path`."""
        self.rules.append(_Rule("before", method, re.compile(path), count, action=action))

    def fired(self) -> Counter[str]:
        return Counter({f"{r.kind} {r.method} {r.path.pattern}": r.fired for r in self.rules})

    def _take(self, method: str, path: str) -> tuple[_Rule, re.Match[str]] | None:
        for rule in self.rules:
            match = rule.path.fullmatch(path)
            if rule.method == method and match and (rule.count is None or rule.fired < rule.count):
                rule.fired += 1
                return rule, match
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        taken = (
            self._take(scope.get("method", ""), scope.get("path", ""))
            if scope["type"] == "http"
            else None
        )
        if taken is None:
            await self.app(scope, receive, send)
            return
        rule, match = taken
        if rule.kind == "swallow":
            body = json.dumps(rule.answer).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if rule.kind == "before":
            assert rule.action is not None
            await rule.action(match)
            await self.app(scope, receive, send)
            return
        assert rule.change is not None
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        body = json.dumps(rule.change(json.loads(raw))).encode()
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app({**scope, "headers": headers}, replay, send)


@dataclass
class Rig:
    """One gateway (tamperable), one HOME, one manifest folder; `odplan` runs in-process."""

    root_url: str
    base_url: str
    token: str
    tamper: Tamper
    app_dir: Path
    home: Path
    outputs: list[str] = field(default_factory=list)

    @property
    def manifest(self) -> Path:
        return self.app_dir / "opendeploy.yaml"

    def write(self, manifest: str) -> None:
        self.manifest.write_text(manifest)

    def odplan(self, command: str, *args: str) -> Result:
        result = CliRunner().invoke(
            main, [command, *args, "-f", str(self.manifest)], catch_exceptions=False
        )
        self.outputs.append(result.output)
        return result

    def apply(self, *args: str) -> Result:
        return self.odplan("apply", "--auto-approve", *args)

    def add_fault(self, **spec: Any) -> None:
        response = httpx.post(f"{self.root_url}/_emulator/faults", json=spec, timeout=30)
        response.raise_for_status()

    def faults_left(self) -> list[Any]:
        response = httpx.get(f"{self.root_url}/_emulator/faults", timeout=30)
        return [f for f in response.json()["faults"] if f.get("count") is not None]

    def client(self) -> GatewayClient:
        return GatewayClient(self.base_url, self.token)

    def inside(self) -> GatewayClient:
        """A client for use inside a request (a `Tamper.before` action): straight to the app,
        since the server is busy with ours."""
        return GatewayClient(
            "http://gateway/api", self.token, transport=httpx.ASGITransport(app=self.tamper.app)
        )

    def live(self, project: str = "tiny") -> Live:
        """Every live row of `project`, counted by name (production only)."""

        async def go() -> Live:
            async with self.client() as client:
                found = [p for p in await client.list_projects() if p.name == project]
                if not found:
                    return Live(0, Counter(), Counter(), Counter(), {}, {})
                pid = found[0].id
                services = [
                    s
                    for s in await client.list_services(pid)
                    if s.environment in ("", "production")
                ]
                deps = (await client.dependency_status(pid)).dependencies
                names = {s.id: s.name for s in services}
                deployments = Counter(
                    names[d.service_id]
                    for d in await client.list_deployments(project_id=pid)
                    if d.service_id in names
                )
                env = {s.name: (await client.get_env(pid, s.id)).variables for s in services}
                domains = {
                    s.name: [
                        r.domain
                        for r in await client.list_service_domains(
                            s.id, environment="production", type="auto"
                        )
                    ]
                    for s in services
                }
                return Live(
                    len(found),
                    Counter(s.name for s in services),
                    Counter(d.display_name or d.name for d in deps),
                    deployments,
                    env,
                    domains,
                )

        return asyncio.run(go())


@dataclass
class Live:
    projects: int
    services: Counter[str]
    dependencies: Counter[str]
    deployments: Counter[str]
    env: dict[str, dict[str, str]]
    domains: dict[str, list[str]]


# One worker on one database: the smallest project with a dependency (races, lost creates).
ONE_DB = """\
version: 1
project:
  name: tiny
dependencies:
  db:
    type: postgres
services:
  web:
    type: worker
    source: web
    language: python
    dockerfile: Dockerfile
    uses: [db]
"""


async def deploy_by_someone_else(
    client: GatewayClient, project: str = "tiny", description: str = "a deploy by someone else"
) -> str:
    """Another apply's deployment of `project`'s first service (to race ours); its id. With
    another apply's `description` (its stamp), the deployment builds that apply's change."""
    found = await client.find_project_by_name(project)
    assert found is not None
    service = (await client.list_services(found.id))[0]
    made = await client.create_deployment(
        found.id,
        service.id,
        environment="production",
        temp_file_path="elsewhere",
        source="zip",
        description=description,
    )
    return made.id


@contextmanager
def tampered_gateway(**settings: Any) -> Iterator[tuple[str, str, Tamper]]:
    """(root URL, dashboard token, tamper) of a fresh `:memory:` gateway on the real clock."""
    from opendeploy_plan.emulator import EmulatorConfig, create_app
    from opendeploy_plan.emulator.server import serve_in_thread

    app = create_app(
        EmulatorConfig(
            db_path=":memory:", **{**FAST_PHASES, "seed": 5, "admin_open": True, **settings}
        )
    )
    emulator = app.state.emulator
    tamper = Tamper(app)
    with serve_in_thread(tamper, wait_for_stop=False) as root:
        emulator.config.public_url = f"{root}/api"
        yield root, emulator.mint_dashboard_token(), tamper


@contextmanager
def rig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, manifest: str, **settings: Any
) -> Iterator[Rig]:
    """A gateway, a private HOME (auth file, audit log) and a one-service app folder."""
    home = tmp_path / "home"
    home.mkdir()
    app_dir = tmp_path / "app"
    (app_dir / "web").mkdir(parents=True)
    (app_dir / "web" / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
    (app_dir / "web" / "main.py").write_text("print('hello')\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("OPDEPLOY_AUTH_FILE", str(home / "auth.json"))
    monkeypatch.setenv("OPDEPLOY_LOG_DIR", str(home / "logs"))
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("OD_ENVIRONMENT", "OPDEPLOY_ALLOW_CREDENTIAL_INIT"):
        monkeypatch.delenv(name, raising=False)
    with tampered_gateway(**settings) as (root, token, tamper):
        monkeypatch.setenv("OD_GATEWAY", f"{root}/api")
        monkeypatch.setenv("OD_API_KEY", token)
        the_rig = Rig(root, f"{root}/api", token, tamper, app_dir, home)
        the_rig.write(manifest)
        yield the_rig
