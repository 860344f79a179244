"""Each apply handler's promises, one focused test each, against a local gateway over real HTTP.

For every handler (project, source, dependency, service, env, deployment, domain), where it
applies:

* **create-or-find**: a create whose response is lost after it committed is found by name (or
  by the run id), never made twice; a create that failed without committing is tried again, up
  to three times; a database is looked for before it is created.
* **read-back mismatch**: the gateway answers "OK" but does not keep the change (the `Tamper`
  in tests/apply/rig.py), and apply fails naming the address and the field.
* **lost response** on an idempotent call (upload, bind, env, rename, delete): retried, and the
  apply converges.
* **in-flight wait**: a deployment (or database, or auto domain) still on its way is awaited,
  not made again.

The gateway faults come from the emulator's admin API (`/_emulator/faults`, per route);
"accepted but not kept" comes from the `Tamper` wrapper around the unchanged emulator.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from opendeploy_plan.gateway import GatewayClient
from tests.apply.rig import Rig, rig

TINY = """\
version: 1
project:
  name: tiny
dependencies:
  db:
    type: postgres
services:
  web:
    type: web
    source: web
    language: python
    port: 8080
    dockerfile: Dockerfile
    uses: [db]
    env:
      LOG_LEVEL: {log_level}
    env_policy: {policy}
    subdomain: tiny-web
"""

ID = "[^/]+"


def manifest(log_level: str = "info", policy: str = "replace") -> str:
    return TINY.format(log_level=log_level, policy=policy)


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, manifest()) as the_rig:
        yield the_rig


def applied(r: Rig, *args: str) -> str:
    result = r.apply(*args)
    assert result.exit_code == 0, result.output
    return result.output


def failed(r: Rig, *args: str) -> str:
    result = r.apply(*args)
    assert result.exit_code == 1, result.output
    return result.output


def assert_one_of_each(r: Rig) -> None:
    live = r.live()
    assert live.projects == 1, live
    assert live.services == {"web": 1}, live
    assert live.dependencies == {"db": 1}, live
    assert live.deployments == {"web": 1}, live


# --- create-or-find -------------------------------------------------------------------------

CREATES = {
    "project": "/api/v1/projects/",
    "dependency": "/api/v1/dependencies/create",
    "service": "/api/v1/projects/{project_id}/services/",
    "deployment": "/api/v1/deployments/",
}


@pytest.mark.parametrize("route", CREATES.values(), ids=CREATES.keys())
def test_a_create_whose_response_is_lost_is_found_not_repeated(gw: Rig, route: str) -> None:
    gw.add_fault(kind="lost_response", method="POST", route=route, count=1)
    applied(gw)
    assert gw.faults_left() == []
    assert_one_of_each(gw)
    assert gw.live().domains == {"web": ["tiny-web.opendeploy.run"]}


@pytest.mark.parametrize("route", CREATES.values(), ids=CREATES.keys())
def test_a_create_that_failed_once_is_looked_for_then_tried_again(gw: Rig, route: str) -> None:
    # A 503 on a create is an unknown outcome: the playbook's rule is "retry once after 5 s".
    # Apply looks for what the create may have made, finds nothing, and creates again.
    gw.add_fault(kind="error", method="POST", route=route, count=1, status=503)
    applied(gw)
    assert gw.faults_left() == []
    assert_one_of_each(gw)


@pytest.mark.parametrize("route", [CREATES["project"], CREATES["deployment"]])
def test_a_create_that_failed_twice_stops_as_the_playbook_says(gw: Rig, route: str) -> None:
    # "If it repeats, stop and surface the gateway's reported service": no third POST.
    gw.add_fault(kind="error", method="POST", route=route, count=3, status=503)
    output = failed(gw)
    assert "503" in output or "service" in output.lower(), output
    left = gw.faults_left()
    assert len(left) == 1 and left[0].get("count") in (1, None), left


def test_a_database_made_since_planning_is_adopted_not_doubled(gw: Rig) -> None:
    """Databases are not unique by name: a `db` that another apply created after this one's
    refresh must be adopted (looked for before creating), not joined by a second `db`."""

    async def another_apply_creates_db(match: Any) -> None:
        transport = httpx.ASGITransport(app=gw.tamper.app)
        async with GatewayClient("http://gateway/api", gw.token, transport=transport) as client:
            await client.create_dependency(
                match["project"], "postgres", environment="production", display_name="db"
            )

    # The project is new, so refresh never listed databases: the first listing is apply's.
    gw.tamper.before(
        "GET", f"/api/v1/dependencies/status/(?P<project>{ID})", another_apply_creates_db
    )
    applied(gw)
    assert gw.tamper.fired() and all(gw.tamper.fired().values())
    assert_one_of_each(gw)
    assert "DATABASE_URL" in gw.live().env["web"]


# --- read-back: the gateway says yes and does not keep it --------------------------------


def _drop_log_level(body: dict[str, Any]) -> dict[str, Any]:
    variables = dict(body.get("runtime_variables") or {})
    variables.pop("LOG_LEVEL")
    return {**body, "runtime_variables": variables}


def test_project_create_read_back(gw: Rig) -> None:
    gw.tamper.rewrite("POST", "/api/v1/projects/", lambda b: {**b, "name": "tiny-other"})
    out = failed(gw)
    assert "inconsistent result after apply: project name is 'tiny-other', expected 'tiny'" in out


def test_project_delete_read_back(gw: Rig) -> None:
    applied(gw)
    gw.tamper.swallow("DELETE", f"/api/v1/projects/{ID}")
    result = gw.odplan("destroy", "--auto-approve", "--allow-data-loss")
    assert result.exit_code == 1, result.output
    assert "project existence is still listed, expected deleted" in result.output


def test_source_bind_read_back(gw: Rig) -> None:
    gw.tamper.swallow("POST", "/api/v1/upload/update-source", answer={"message": "ok"})
    out = failed(gw)
    assert "project.source source_path is empty, expected set" in out


def test_dependency_create_read_back(gw: Rig) -> None:
    gw.tamper.rewrite(
        "POST", "/api/v1/dependencies/create", lambda b: {**b, "dependency_id": "mysql"}
    )
    out = failed(gw)
    assert "dependency.db type is 'mysql', expected 'postgres'" in out


def test_dependency_delete_read_back(gw: Rig) -> None:
    applied(gw)
    gw.tamper.swallow("DELETE", f"/api/v1/dependencies/{ID}/{ID}")
    out = failed(gw, "--replace", "dependency.db", "--allow-data-loss")
    assert "dependency.db existence is still listed, expected deleted" in out
    assert gw.live().dependencies == {"db": 1}


def test_service_create_settings_read_back(gw: Rig) -> None:
    gw.tamper.rewrite("POST", f"/api/v1/projects/{ID}/services/", lambda b: {**b, "port": 9090})
    out = failed(gw)
    assert "service.web port is 9090, expected 8080" in out


def test_service_create_env_read_back(gw: Rig) -> None:
    gw.tamper.rewrite("POST", f"/api/v1/projects/{ID}/services/", _drop_log_level)
    out = failed(gw)
    assert "service.web env is missing LOG_LEVEL, expected what was sent" in out


def test_service_update_read_back(gw: Rig) -> None:
    applied(gw)
    gw.write(manifest().replace("port: 8080", "port: 8081"))
    gw.tamper.rewrite("PUT", f"/api/v1/services/{ID}", lambda b: {**b, "port": 8080})
    out = failed(gw)
    assert "service.web port is 8080, expected 8081" in out


def test_service_delete_read_back(gw: Rig) -> None:
    applied(gw)
    gw.tamper.swallow("DELETE", f"/api/v1/services/{ID}")
    out = failed(gw, "--replace", "service.web")
    assert "service.web existence is still listed, expected deleted" in out


def test_env_read_back(gw: Rig) -> None:
    applied(gw)
    gw.write(manifest(log_level="debug"))
    gw.tamper.rewrite(
        "PUT",
        f"/api/v1/projects/{ID}/services/{ID}/env",
        lambda b: {"variables": {**b["variables"], "LOG_LEVEL": "info"}},
    )
    out = failed(gw)
    assert "service.web.env env is different value for LOG_LEVEL" in out


def test_deployment_read_back(gw: Rig) -> None:
    # A deployment's read-back is its terminal status: the gateway took it and did not run it.
    httpx.post(
        f"{gw.root_url}/_emulator/deployment-faults",
        json={"mode": "fail", "phase": "build", "logs": ["boom"], "count": 1},
        timeout=30,
    ).raise_for_status()
    out = failed(gw)
    assert "of web failed" in out


def test_domain_read_back(gw: Rig) -> None:
    gw.tamper.rewrite(
        "PUT", f"/api/v1/service-domains/{ID}/subdomain", lambda b: {**b, "subdomain": "tiny-x"}
    )
    out = failed(gw)
    assert (
        "service.web.domain domain is 'tiny-x.opendeploy.run', expected 'tiny-web.opendeploy.run'"
        in out
    )


# --- lost responses on idempotent calls ----------------------------------------------------

FIRST_APPLY_CALLS = {
    "source-upload": ("POST", "/api/v1/upload/upload-only"),
    "source-bind": ("POST", "/api/v1/upload/update-source"),
    "domain-rename": ("PUT", "/api/v1/service-domains/*/subdomain"),
    "service-read": ("GET", "/api/v1/services/*"),
}


@pytest.mark.parametrize(("method", "route"), FIRST_APPLY_CALLS.values(), ids=FIRST_APPLY_CALLS)
def test_a_lost_response_is_retried(gw: Rig, method: str, route: str) -> None:
    gw.add_fault(kind="lost_response", method=method, route=route, count=1)
    applied(gw)
    assert gw.faults_left() == []
    assert_one_of_each(gw)
    assert gw.live().domains == {"web": ["tiny-web.opendeploy.run"]}


def test_a_lost_env_response_is_retried(gw: Rig) -> None:
    applied(gw)
    gw.write(manifest(log_level="debug"))
    gw.add_fault(
        kind="lost_response", method="PUT", route="/api/v1/projects/*/services/*/env", count=1
    )
    applied(gw)
    assert gw.faults_left() == []
    assert gw.live().env["web"]["LOG_LEVEL"] == "debug"


def test_a_lost_delete_response_is_retried(gw: Rig) -> None:
    applied(gw)
    gw.add_fault(kind="lost_response", method="DELETE", route="/api/v1/dependencies/*", count=1)
    applied(gw, "--replace", "dependency.db", "--allow-data-loss")
    assert gw.faults_left() == []
    assert gw.live().dependencies == {"db": 1}


def test_a_lost_service_update_response_is_retried(gw: Rig) -> None:
    applied(gw)
    gw.write(manifest().replace("port: 8080", "port: 8081"))
    gw.add_fault(kind="lost_response", method="PUT", route="/api/v1/services/*", count=1)
    applied(gw)
    assert gw.faults_left() == []


# --- in flight: awaited, never made again --------------------------------------------------


def test_a_deployment_in_flight_is_awaited_not_duplicated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, manifest(), build_seconds=6.0) as r:
        # The first apply creates the deployment, then loses sight of it (the watch's reads
        # fail) and stops while the build goes on.
        r.tamper.swallow("GET", f"/api/v1/deployments/{ID}", answer={}, count=None)
        first = r.apply()
        assert first.exit_code == 1, first.output
        r.tamper.rules.clear()
        assert r.live().deployments == {"web": 1}
        second = applied(r)
        assert "service.web.deployment" in second
        live = r.live()
        assert live.deployments == {"web": 1}, "the in-flight build was deployed again"
        planned = r.odplan("plan", "--detailed-exitcode")
        assert planned.exit_code == 0, planned.output


def test_a_database_still_provisioning_is_awaited_before_its_service(gw: Rig) -> None:
    out = applied(gw)
    lines = out.splitlines()

    def first(text: str) -> int:
        return next(i for i, line in enumerate(lines) if line.endswith(text))

    assert first("dependency.db: dependency provisioning") < first(
        "dependency.db: dependency running"
    )
    assert first("dependency.db: dependency running") < first("dependency.db: done")
    assert first("dependency.db: done") < first("service.web: creating…")


def test_an_auto_domain_not_there_yet_is_awaited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, manifest(), auto_domain_delay_seconds=1.5) as r:
        out = applied(r)
        assert "waiting for the auto domain" in out
        assert r.live().domains == {"web": ["tiny-web.opendeploy.run"]}


# --- env policy at apply time ---------------------------------------------------------------


@pytest.mark.parametrize(("policy", "kept"), [("merge", True), ("replace", False)])
def test_env_policy_decides_which_live_keys_survive(gw: Rig, policy: str, kept: bool) -> None:
    gw.write(manifest(policy=policy))
    applied(gw)

    async def set_by_hand() -> None:
        async with gw.client() as client:
            project = next(p for p in await client.list_projects() if p.name == "tiny")
            service = next(s for s in await client.list_services(project.id) if s.name == "web")
            env = (await client.get_env(project.id, service.id)).variables
            await client.replace_env(project.id, service.id, {**env, "SET_BY_HAND": "1"})

    asyncio.run(set_by_hand())
    gw.write(manifest(log_level="debug", policy=policy))
    applied(gw)
    env = gw.live().env["web"]
    assert env["LOG_LEVEL"] == "debug"
    assert ("SET_BY_HAND" in env) is kept, sorted(env)


SITE = """\
version: 1
project:
  name: tiny
services:
  site:
    type: {kind}
    source: web
    language: python
    port: 8080
    dockerfile: Dockerfile
"""


@pytest.mark.parametrize("profile", ["default", "documented"])
@pytest.mark.parametrize("kind", ["web", "static"])
def test_the_report_waits_for_the_auto_domain_of_a_public_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, profile: str
) -> None:
    """No subdomain to rename, so nothing in the graph waits for the auto domain row: the end
    of apply does, so that the report gives the live URL of web and static services alike."""
    site = SITE.format(kind=kind)
    with rig(tmp_path, monkeypatch, site, auto_domain_delay_seconds=1.0, profile=profile) as r:
        out = applied(r)
        domains = r.live().domains["site"]
        assert len(domains) == 1, domains
        assert f"https://{domains[0]}" in out
