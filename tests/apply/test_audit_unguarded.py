"""The five mutants the first audit left unguarded (docs/mutation-audit.md, A30, A32, A35, A36,
A39), one focused test each, against a local gateway over real HTTP, odplan in-process
(tests/apply/rig.py).

* A30: a database create whose answer is lost while someone else makes a database too: two
  new rows nobody can name, so apply stops naming both and deletes neither.
* A32: a lost create whose run then stops (the gateway goes down): the write-ahead intent stays
  on disk, so the next apply deletes the orphan and makes exactly one database.
* A35: a racing create whose answer carries no variables: the race settlement cannot prove
  nobody uses ours, so it keeps both (and a service on ours keeps its database).
* A36: a deploy's 409 without `deployment_id` (the documents do not promise one): the
  deployment in flight is found among the *unfinished* ones, waited for, then ours deploys;
  a 409 when nothing is unfinished is about something else: reported, not waited on.
* A39: the plan waits for a deployment in flight; that one ends badly: ours still deploys.

Where the emulator cannot be made to answer differently, `Reshape` (below) rewrites one
route's JSON answer on its way out; the emulator itself is untouched.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from opendeploy_plan.state.hints import read_dependency_hints, read_pending_creates
from tests.apply.rig import Rig, Scope, deploy_by_someone_else, rig

TINY = """\
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
    env:
      LOG_LEVEL: {log_level}
"""
ID = "[^/]+"
CREATE_DB = "/api/v1/dependencies/create"


def manifest(log_level: str = "info") -> str:
    return TINY.format(log_level=log_level)


class Reshape:
    """ASGI layer: the JSON answer of `method path` (a regex), whatever its status, passed
    through `change(status, body)` before the client sees it. Everything else goes through."""

    def __init__(
        self,
        app: Any,
        method: str,
        path: str,
        change: Callable[[int, Any], Any],
    ) -> None:
        self.app = app
        self.state = app.state  # the rig's helpers reach the emulator through `.state`
        self.method = method
        self.path = re.compile(path)
        self.change = change

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != self.method
            or not self.path.fullmatch(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        body = bytearray()

        async def reshaped(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            new = json.dumps(self.change(start["status"], json.loads(body))).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(new)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": new})

        await self.app(scope, receive, reshaped)


def reshape(gw: Rig, method: str, path: str, change: Callable[[int, Any], Any]) -> None:
    gw.tamper.app = Reshape(gw.tamper.app, method, path, change)


class Refuse:
    """ASGI layer: answer `method path` (a regex) `count` times with `status` and a JSON body,
    without performing it. Everything else goes through."""

    def __init__(self, app: Any, method: str, path: str, status: int, body: Any) -> None:
        self.app = app
        self.state = app.state
        self.method = method
        self.path = re.compile(path)
        self.status = status
        self.body = json.dumps(body).encode()
        self.left = 1

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if (
            self.left <= 0
            or scope["type"] != "http"
            or scope["method"] != self.method
            or not self.path.fullmatch(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        self.left -= 1
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.body)).encode()),
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


async def _add_fault_inside(gw: Rig, **spec: Any) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gw.tamper.app), base_url="http://gateway"
    ) as admin:
        (await admin.post("/_emulator/faults", json=spec)).raise_for_status()


def _dependency_rows(gw: Rig) -> dict[str, tuple[str, dict[str, str]]]:
    """`{id: (display name, env_vars)}` from the emulator's own rows (whatever the profile)."""
    emulator = gw.tamper.app.state.emulator
    with emulator.store.transaction() as tx:
        rows = tx.all("SELECT id, data FROM dependencies")
    return {
        row["id"]: (json.loads(row["data"])["display_name"], json.loads(row["data"])["env_vars"])
        for row in rows
    }


def _project_id(gw: Rig) -> str:
    async def go() -> str:
        async with gw.client() as client:
            project = await client.find_project_by_name("tiny")
            assert project is not None
            return project.id

    return asyncio.run(go())


# --- A36: a 409 that does not name the deployment in flight --------------------------------


def test_a_deploy_409_without_its_id_waits_for_the_unfinished_deployment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, manifest()) as gw:
        assert gw.apply().exit_code == 0
        # One finished deployment (the first apply's) and, racing ours, an unfinished one.
        gw.write(manifest(log_level="debug"))
        other: list[str] = []

        async def another_apply_deploys_first(match: Any) -> None:
            async with gw.inside() as client:
                other.append(await deploy_by_someone_else(client))

        gw.tamper.before("POST", "/api/v1/deployments/", another_apply_deploys_first)
        # The documents do not promise that a 409 names the deployment in flight.
        reshape(
            gw,
            "POST",
            "/api/v1/deployments/",
            lambda status, body: (
                {k: v for k, v in body.items() if k != "deployment_id"} if status == 409 else body
            ),
        )
        result = gw.apply()

        assert result.exit_code == 0, result.output
        assert f"deployment {other[0]} is in progress: waiting for it" in result.output
        assert gw.live().deployments == {"web": 3}
        assert gw.live().env["web"]["LOG_LEVEL"] == "debug"
        again = gw.odplan("plan", "--detailed-exitcode")
        assert again.exit_code == 0, again.output


def test_a_deploy_409_about_something_else_is_reported_not_waited_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing is in flight: the newest deployment is finished, so the 409 is not a race.
    with rig(tmp_path, monkeypatch, manifest()) as gw:
        assert gw.apply().exit_code == 0
        gw.write(manifest(log_level="debug"))
        reason = "the service is being migrated to another cluster"
        gw.tamper.app = Refuse(
            gw.tamper.app, "POST", "/api/v1/deployments/", 409, {"error": reason}
        )

        result = gw.apply()

        assert result.exit_code == 1, result.output
        text = " ".join(result.output.split())
        assert f"the gateway refused the deployment: {reason}" in text
        assert "is in progress: waiting for it" not in result.output
        assert gw.live().deployments == {"web": 1}


# --- A39: the deployment the plan waits for ends badly ---------------------------------------


def test_a_planned_wait_for_a_deployment_that_ends_badly_still_deploys_ours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, manifest()) as gw:
        assert gw.apply().exit_code == 0
        # Someone deploys by hand; the build hangs (the plan sees it in flight) ...
        httpx.post(
            f"{gw.root_url}/_emulator/deployment-faults",
            json={"mode": "stall", "phase": "building", "count": 1},
            timeout=30,
        ).raise_for_status()

        async def deploy_by_hand() -> str:
            async with gw.client() as client:
                project = await client.find_project_by_name("tiny")
                assert project is not None
                service = (await client.list_services(project.id))[0]
                made = await client.create_deployment(
                    project.id,
                    service.id,
                    environment="production",
                    temp_file_path="by-hand",
                    source="zip",
                    description="a deploy by hand",
                )
                return made.id

        stuck = asyncio.run(deploy_by_hand())
        gw.write(manifest(log_level="debug"))
        planned = gw.odplan("plan")
        assert planned.exit_code == 0, planned.output
        assert stuck in planned.output  # the plan says it waits for it

        # ... and is cancelled while this apply waits for it.
        async def cancel_it(match: Any) -> None:
            async with gw.inside() as client:
                await client.cancel_deployment(stuck)

        gw.tamper.before("GET", f"/api/v1/deployments/{stuck}", cancel_it)
        result = gw.apply()

        assert result.exit_code == 0, result.output
        assert gw.tamper.fired()[f"before GET /api/v1/deployments/{stuck}"] == 1
        live = gw.live()
        assert live.deployments == {"web": 3}
        assert live.env["web"]["LOG_LEVEL"] == "debug"
        again = gw.odplan("plan", "--detailed-exitcode")
        assert again.exit_code == 0, again.output


# --- A30: a lost create, and a second new row nobody can name --------------------------------


def test_a_lost_create_beside_a_second_new_unnamed_row_stops_and_deletes_neither(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The documented status rows are `{id, status}`: no name tells the two new rows apart.
    with rig(tmp_path, monkeypatch, manifest(), profile="documented") as gw:
        theirs: list[str] = []

        async def someone_creates_one_too(match: Any) -> None:
            async with gw.inside() as client:
                project = await client.find_project_by_name("tiny")
                assert project is not None
                made = await client.create_dependency(
                    project.id, "postgres", environment="production", display_name="other"
                )
                theirs.append(made.id)
            # ... and the answer to ours is lost after it committed.
            await _add_fault_inside(
                gw, kind="lost_response", method="POST", route=CREATE_DB, count=1
            )

        gw.tamper.before("POST", CREATE_DB, someone_creates_one_too)
        result = gw.apply()

        assert result.exit_code == 1, result.output
        assert "cannot tell which is which" in result.output
        rows = _dependency_rows(gw)
        assert len(rows) == 2 and theirs[0] in rows, rows  # neither deleted
        for dependency_id in rows:
            assert dependency_id in result.output
        assert gw.live().services == {}  # stopped before any service got either
        # The intent stays: the next run knows a create of `db` is unaccounted for.
        assert set(read_pending_creates(gw.app_dir, "tiny", "production")) == {"db"}


# --- A32: a lost create, then the run stops: the intent must outlive it ----------------------


def test_a_lost_create_keeps_its_intent_so_the_next_apply_makes_no_second_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, manifest(), profile="documented") as gw:

        async def the_gateway_goes_down_after_this_create(match: Any) -> None:
            await _add_fault_inside(
                gw, kind="lost_response", method="POST", route=CREATE_DB, count=1
            )
            await _add_fault_inside(
                gw, kind="error", status=503, method="GET", route="/api/v1/dependencies/status/*"
            )

        gw.tamper.before("POST", CREATE_DB, the_gateway_goes_down_after_this_create)
        first = gw.apply()
        assert first.exit_code == 1, first.output
        (orphan,) = _dependency_rows(gw)  # the create committed; its answer never came
        assert set(read_pending_creates(gw.app_dir, "tiny", "production")) == {"db"}

        httpx.delete(f"{gw.root_url}/_emulator/faults", timeout=30).raise_for_status()
        second = gw.apply()

        assert second.exit_code == 0, second.output
        assert f"a create whose answer was lost left {orphan}" in second.output
        rows = _dependency_rows(gw)
        assert orphan not in rows and len(rows) == 1, rows
        ((db_id, (_, env_vars)),) = rows.items()
        assert gw.live().env["web"]["DATABASE_URL"] == env_vars["DATABASE_URL"]
        assert read_dependency_hints(gw.app_dir, "tiny", "production") == {db_id: "db"}
        assert read_pending_creates(gw.app_dir, "tiny", "production") == {}


# --- A35: the race settlement and a database whose variables are unknown ---------------------


def test_a_race_lost_by_a_database_whose_variables_are_unknown_keeps_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, manifest()) as gw:
        twins: list[str] = []

        async def another_apply_creates_db_first(match: Any) -> None:
            async with gw.inside() as client:
                project = await client.find_project_by_name("tiny")
                assert project is not None
                made = await client.create_dependency(
                    project.id, "postgres", environment="production", display_name="db"
                )
                twins.append(made.id)

        gw.tamper.before("POST", CREATE_DB, another_apply_creates_db_first)
        # Our create's answer does not carry the variables: nothing proves that no service
        # carries ours' values, so ours is not provably ours to delete.
        reshape(
            gw,
            "POST",
            CREATE_DB,
            lambda status, body: {k: v for k, v in body.items() if k != "env_vars"},
        )
        result = gw.apply()

        assert result.exit_code == 0, result.output
        assert f"another 'db' exists ({twins[0]}); ours is in use: kept both" in result.output
        rows = _dependency_rows(gw)
        assert twins[0] in rows and len(rows) == 2, rows
        (ours,) = set(rows) - {twins[0]}
        assert gw.live().env["web"]["DATABASE_URL"] == rows[ours][1]["DATABASE_URL"]
