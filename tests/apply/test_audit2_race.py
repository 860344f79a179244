"""Racing applies, the cases an independent mutation audit (issue 19) found unguarded, with a
gateway whose answers leave something out (`Answers`, an ASGI wrapper around the emulator):

* a race loser that never saw its own database's variables keeps it (a database whose
  variables are unknown counts as in use: deleting it could pull it from under a service);
* a deploy's 409 without `deployment_id` (the documents list 409 only as "conflict"): apply
  waits for the service's newest unfinished deployment, then deploys its own change.

Real HTTP against the local gateway, odplan in-process; the other apply runs inside our
request (`Tamper`, tests/apply/rig.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from opendeploy_plan.gateway import GatewayClient
from tests.apply.rig import ONE_DB, Rig, deploy_by_someone_else, rig

CREATE = "/api/v1/dependencies/create"
DEPLOY = "/api/v1/deployments/"


class Answers:
    """ASGI wrapper: the answer to `method path` (a regex), when its status is `status`, comes
    back with its JSON body passed through `change` (what a gateway leaves out of an answer)."""

    def __init__(
        self,
        app: Any,
        method: str,
        path: str,
        status: int,
        change: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> None:
        self.app = app
        self.method = method
        self.path = re.compile(path)
        self.status = status
        self.change = change

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != self.method
            or not self.path.fullmatch(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def rewrite(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            data = b"".join(chunks)
            body = json.loads(data) if data else None
            if start["status"] == self.status and isinstance(body, dict):
                data = json.dumps(self.change(body)).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", b"%d" % len(data))]})
            await send({"type": "http.response.body", "body": data})

        await self.app(scope, receive, rewrite)


class BeforeBody:
    """ASGI wrapper: `act` runs with the JSON body of `method path` before the emulator sees
    the request (another apply that sends what this one sends, a moment earlier)."""

    def __init__(
        self, app: Any, method: str, path: str, act: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> None:
        self.app = app
        self.method = method
        self.path = path
        self.act = act
        self.fired = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) != (self.method, self.path):
            await self.app(scope, receive, send)
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        if not self.fired:
            self.fired += 1
            await self.act(json.loads(raw))
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                message: dict[str, Any] = await receive()
                return message
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(scope, replay, send)


def _without(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda body: {k: v for k, v in body.items() if k != key}


def _other_client(gw: Rig, app: Any) -> GatewayClient:
    # Inside a request: talk to the emulator directly (the server is busy with ours).
    return GatewayClient("http://gateway/api", gw.token, transport=httpx.ASGITransport(app=app))


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, ONE_DB) as the_rig:
        yield the_rig


def test_a_race_loser_whose_variables_are_unknown_keeps_its_database(gw: Rig) -> None:
    emulator_app = gw.tamper.app

    async def another_apply_creates_db_first(_match: Any) -> None:
        async with _other_client(gw, emulator_app) as client:
            project = await client.find_project_by_name("tiny")
            assert project is not None
            await client.create_dependency(
                project.id, "postgres", environment="production", display_name="db"
            )

    gw.tamper.app = Answers(emulator_app, "POST", CREATE, 200, _without("env_vars"))
    gw.tamper.before("POST", CREATE, another_apply_creates_db_first)
    result = gw.apply()
    assert gw.tamper.fired() and all(gw.tamper.fired().values())
    assert "ours is in use: kept both" in result.output, result.output
    assert "ours deleted" not in result.output
    assert gw.live().dependencies == {"db": 2}


def test_a_deploy_409_without_the_deployment_id_waits_for_the_newest_unfinished_one(
    gw: Rig,
) -> None:
    """The documents list 409 only as "conflict": without `deployment_id` in the body, apply
    waits for the service's newest deployment that has not finished, then deploys its own."""
    emulator_app = gw.tamper.app
    other: list[str] = []

    async def another_apply_deploys_first(_match: Any) -> None:
        async with _other_client(gw, emulator_app) as client:
            other.append(await deploy_by_someone_else(client))

    gw.tamper.app = Answers(emulator_app, "POST", DEPLOY, 409, _without("deployment_id"))
    gw.tamper.before("POST", DEPLOY, another_apply_deploys_first)
    result = gw.apply()
    assert result.exit_code == 0, result.output
    assert f"deployment {other[0]} is in progress: waiting for it" in result.output
    assert gw.live().deployments == {"web": 2}


@pytest.mark.parametrize(("config", "deployments"), [("same", 1), ("other", 2)])
def test_a_racing_deployment_is_adopted_only_when_it_built_the_same_config(
    gw: Rig, config: str, deployments: int
) -> None:
    """Another run deploys the same source a moment before ours (our create gets the 409):
    it is adopted only when its stamp's config digest is ours too; one built with other
    variables is waited for and then ours is deployed."""
    emulator_app = gw.tamper.app
    other: list[str] = []

    async def another_run_deploys(ours: dict[str, Any]) -> None:
        description = re.sub(r" r=[^\s\]]+", " r=0therrun0000", ours["description"])
        if config == "other":
            description = re.sub(r" c=[^\s\]]+", " c=0ther0config", description)
        assert description != ours["description"]
        async with _other_client(gw, emulator_app) as client:
            made = await client.create_deployment(
                ours["project_id"],
                ours["service_id"],
                environment=ours["environment"],
                temp_file_path=ours["temp_file_path"],
                source=ours["source"],
                description=description,
            )
            other.append(made.id)

    racer = BeforeBody(emulator_app, "POST", DEPLOY, another_run_deploys)
    gw.tamper.app = racer
    result = gw.apply()
    assert result.exit_code == 0, result.output
    assert racer.fired == 1
    assert f"deployment {other[0]} is in progress: waiting for it" in result.output
    assert gw.live().deployments == {"web": deployments}
