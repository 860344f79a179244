"""Issue 13's acceptance over real HTTP: `odplan apply` against a gateway on the local runtime
builds and runs fixture apps that answer through the router; a redeploy serves the new code,
a rollback the old; real databases; real failures; no orphans after `kill -9`; no secret on
disk or in a log."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from opendeploy_plan.emulator.store import KEY_FILE_ENV, Sealed, Store
from opendeploy_plan.runtime import find_postgres, find_redis, unprivileged_user
from tests.conftest import FAST_PHASES, LiveGateway, running_gateway
from tests.e2e.apply_support import Odplan

from .conftest import FIXTURES, reachable_tmp, wait_for

CANARY = "canary-91d2-local-runtime-secret"

MANIFEST = """\
version: 1
project:
  name: local-fixtures
services:
  hello:
    type: web
    source: hello
    port: 8000
    subdomain: hello-local
    env:
      APP_TOKEN: ${{ secrets.APP_TOKEN }}
      CANARY: ${{ secrets.APP_TOKEN }}
  web:
    type: web
    source: web
    port: 3000
    subdomain: web-local
  site:
    type: static
    source: site
    subdomain: site-local
"""

DB_MANIFEST = """\
version: 1
project:
  name: local-db
dependencies:
  db:
    type: postgres
    database_name: shop
  cache:
    type: redis
services:
  shop:
    type: web
    source: shop
    port: 8000
    subdomain: shop-local
    uses: [db]
    env:
      REDIS_URL: ${{ dependencies.cache.REDIS_URL }}
"""

ONE_APP_MANIFEST = """\
version: 1
project:
  name: local-one
services:
  hello:
    type: web
    source: hello
    port: 8000
    subdomain: hello-local
"""

FAILING_MANIFEST = """\
version: 1
project:
  name: local-failures
services:
  broken:
    type: web
    source: broken
    port: 8000
  crashy:
    type: worker
    source: crashy
  front:
    type: static
    source: front
    after: [broken]
"""


@contextmanager
def local_gateway(runtime_dir: Path) -> Iterator[LiveGateway]:
    with running_gateway(
        **{**FAST_PHASES, "seed": 7}, runtime="local", runtime_dir=str(runtime_dir)
    ) as gateway:
        try:
            yield gateway
        finally:
            gateway.emulator.runner.close()


def project(root: Path, manifest: str, **folders: str) -> Path:
    root.mkdir(parents=True)
    for target, fixture in folders.items():
        shutil.copytree(FIXTURES / fixture, root / target)
    (root / "opendeploy.yaml").write_text(manifest)
    return root / "opendeploy.yaml"


def odplan(gateway: LiveGateway, work: Path, manifest: Path) -> Odplan:
    home = work / "home"
    home.mkdir(exist_ok=True)
    tool = Odplan(gateway, home, manifest)
    tool.extra_env["APP_TOKEN"] = CANARY
    return tool


def through_router(gateway: LiveGateway, host: str, path: str = "/") -> httpx.Response:
    port = gateway.emulator.runner.router_port
    return httpx.get(f"http://127.0.0.1:{port}{path}", headers={"Host": host}, timeout=10)


@pytest.mark.slow
def test_apply_redeploy_and_rollback_answer_through_the_router() -> None:
    work = reachable_tmp("odplan-gw-")
    try:
        manifest = project(
            work / "app", MANIFEST, hello="py_app", web="node_app", site="static_site"
        )
        with local_gateway(work / "runtime") as gateway:
            tool = odplan(gateway, work, manifest)
            first = tool.apply()
            assert first.returncode == 0, first.stdout + first.stderr
            assert wait_for(
                lambda: through_router(gateway, "hello-local.localhost").status_code == 200,
                timeout=15,
            )
            assert through_router(gateway, "hello-local.localhost").text == "hello from python v1\n"
            assert through_router(gateway, "hello-local.opendeploy.run", "/env").text == (
                "canary set"
            )
            assert through_router(gateway, "web-local.localhost").text == "hello from node v1\n"
            assert through_router(gateway, "site-local.localhost").text == "<h1>static v1</h1>\n"

            app_py = manifest.parent / "hello" / "app.py"
            app_py.write_text(app_py.read_text().replace("python v1", "python v2"))
            second = tool.apply()
            assert second.returncode == 0, second.stdout + second.stderr
            assert through_router(gateway, "hello-local.localhost").text == "hello from python v2\n"

            back = tool.run("rollback", "hello")
            assert back.returncode == 0, back.stdout + back.stderr
            assert through_router(gateway, "hello-local.localhost").text == "hello from python v1\n"

            logs = tool.run("logs", "hello")
            assert CANARY not in first.stdout + first.stderr + logs.stdout + logs.stderr

            runtime = gateway.emulator.runner.runtime
            processes = [d.process for d in runtime.deployments() if d.process is not None]
            destroyed = tool.run("destroy", "--auto-approve")
            assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
            assert through_router(gateway, "hello-local.localhost").status_code == 404
            assert all(process.wait(10) is not None for process in processes)
        for path in (work / "runtime").rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert CANARY.encode() not in path.read_bytes(), path
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.skipif(
    find_postgres(unprivileged_user()) is None or find_redis(unprivileged_user()) is None,
    reason="needs PostgreSQL and redis-server (or the `local` extra)",
)
def test_python_app_with_postgres_and_redis_writes_a_row_and_a_key() -> None:
    work = reachable_tmp("odplan-gw-db-")
    try:
        manifest = project(work / "app", DB_MANIFEST, shop="py_db_app")
        with local_gateway(work / "runtime") as gateway:
            applied = odplan(gateway, work, manifest).apply(timeout=300)
            assert applied.returncode == 0, applied.stdout + applied.stderr
            assert through_router(gateway, "shop-local.localhost", "/visit").text == (
                "rows=1 hits=1"
            )
            assert through_router(gateway, "shop-local.localhost", "/visit").text == (
                "rows=2 hits=2"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.slow
def test_failing_build_and_crashing_app_end_failed_with_real_output() -> None:
    work = reachable_tmp("odplan-gw-fail-")
    try:
        manifest = project(
            work / "app",
            FAILING_MANIFEST,
            broken="bad_deps_app",
            crashy="crash_app",
            front="static_site",
        )
        with local_gateway(work / "runtime") as gateway:
            tool = odplan(gateway, work, manifest)
            applied = tool.apply()
            output = applied.stdout + applied.stderr
            assert applied.returncode != 0, output
            assert "this-package-does-not-exist-odplan" in output
            assert "DATABASE_HOST is not configured" in output
            assert "front" in output and "skipped" in output
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2 :].split()
            if fields[0] != b"Z":
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] != b"Z"


def _serve(
    work: Path, state: Path | None = None, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], LiveGateway, int]:
    """`odplan gateway serve --runtime local` as a child; the gateway and its router port.
    `state`: the folder for its database and runtime (default: `work`)."""
    state = state or work
    gateway = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "opendeploy_plan",
            "gateway",
            "serve",
            "--port",
            "0",
            "--runtime",
            "local",
            "--router-port",
            "0",
            "--db",
            str(state / "gateway.db"),
            "--runtime-dir",
            str(state / "runtime"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env or {**os.environ, KEY_FILE_ENV: str(work / "keys" / "gateway.key")},
    )
    assert gateway.stdout is not None
    base = token = router = None
    while base is None or router is None or token is None:
        line = gateway.stdout.readline()
        assert line, "the gateway exited"
        if line.startswith("opendeploy local gateway:"):
            base = line.split(": ", 1)[1].strip()
        elif line.startswith("dashboard token:"):
            token = line.split(": ", 1)[1].strip()
        elif line.startswith("router:"):
            router = int(line.rsplit(":", 1)[1].strip().rstrip("/"))
    live = LiveGateway(base.removesuffix("/api"), base, token, None, None, None)
    return gateway, live, router


@pytest.mark.slow
def test_kill_9_of_the_gateway_leaves_no_child_and_a_restart_serves_again() -> None:
    work = reachable_tmp("odplan-gw-kill-")
    try:
        manifest = project(work / "app", ONE_APP_MANIFEST, hello="py_app")
        gateway, live, router = _serve(work)
        applied = odplan(live, work, manifest).apply()
        assert applied.returncode == 0, applied.stdout + applied.stderr

        def answer(port: int) -> str:
            return httpx.get(
                f"http://127.0.0.1:{port}/", headers={"Host": "hello-local.localhost"}, timeout=5
            ).text

        assert answer(router) == "hello from python v1\n"
        children = _descendants(gateway.pid)
        assert children
        os.kill(gateway.pid, signal.SIGKILL)
        gateway.wait()
        assert wait_for(lambda: not any(_alive(pid) for pid in children), timeout=5.0), [
            pid for pid in children if _alive(pid)
        ]

        again, _, router = _serve(work)
        try:
            assert wait_for(lambda: answer(router) == "hello from python v1\n", timeout=30)
        finally:
            again.send_signal(signal.SIGINT)
            again.wait(30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


SECRET_MANIFEST = """\
version: 1
project:
  name: local-secrets
dependencies:
  db:
    type: mysql
services:
  hello:
    type: web
    source: hello
    port: 8000
    subdomain: hello-secret
    uses: [db]
    env:
      APP_TOKEN: ${{ secrets.APP_TOKEN }}
      CANARY: ${{ secrets.APP_TOKEN }}
"""


def _stop(gateway: subprocess.Popen[str]) -> str:
    gateway.send_signal(signal.SIGINT)
    out, _ = gateway.communicate(timeout=60)
    return out


@pytest.mark.slow
def test_no_secret_on_any_file_of_the_state_folder_and_a_restart_still_runs_with_it() -> None:
    """The canary (a manifest secret) and a database password: absent from every file under
    the state folder (the gateway database, its -wal, uploads, runtime) and every log; the
    key is outside, 0600; a restarted gateway still starts the app with the secret."""
    work = reachable_tmp("odplan-gw-secret-")
    state = work / "state"
    key = work / "keys" / "gateway.key"
    env = {**os.environ, "HOME": str(work / "home"), KEY_FILE_ENV: str(key)}
    try:
        manifest = project(work / "app", SECRET_MANIFEST, hello="py_app")
        gateway, live, router = _serve(work, state, env)

        def canary_status(port: int) -> str:
            return httpx.get(
                f"http://127.0.0.1:{port}/env", headers={"Host": "hello-secret.localhost"}
            ).text

        printed = ""
        try:
            tool = odplan(live, work, manifest)
            applied = tool.apply()
            assert applied.returncode == 0, applied.stdout + applied.stderr
            assert canary_status(router) == "canary set"
            logs = tool.run("logs", "hello")
            printed = applied.stdout + applied.stderr + logs.stdout + logs.stderr
            live = [p for p in state.rglob("*") if p.is_file() and not p.is_symlink()]
            assert any(p.name == "gateway.db-wal" for p in live)  # while it runs, too
            for path in live:
                assert CANARY.encode() not in path.read_bytes(), path
        finally:
            printed += _stop(gateway)

        with_key = Store(str(state / "gateway.db"), key_file=key)
        with with_key.transaction() as tx:
            env_text = tx.one("SELECT env FROM services")["env"]  # type: ignore[index]
            dependency = tx.one("SELECT data FROM dependencies")["data"]  # type: ignore[index]
        with_key.close()
        assert CANARY in env_text  # readable with the key...
        password = json.loads(dependency)["env_vars"]["MYSQL_PASSWORD"]
        assert len(password) >= 16
        # ...and on no file of the state folder, nor in odplan's own logs (under its HOME).
        files = [*state.rglob("*"), *(work / "home").rglob("*")]
        for secret in (CANARY, password):
            assert secret not in printed
            for path in files:
                if path.is_file() and not path.is_symlink():
                    assert secret.encode() not in path.read_bytes(), path
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE((state / "gateway.db").stat().st_mode) == 0o600
        for extra in state.glob("gateway.db-*"):
            assert stat.S_IMODE(extra.stat().st_mode) == 0o600, extra
        assert stat.S_IMODE((state / "gateway.db.files").stat().st_mode) == 0o700
        for name in ("processes.json", "releases.json", "outcomes.json"):
            assert stat.S_IMODE((state / "runtime" / name).stat().st_mode) == 0o600, name

        again, _, router = _serve(work, state, env)
        try:
            assert wait_for(lambda: canary_status(router) == "canary set", timeout=30)
        finally:
            _stop(again)
    finally:
        shutil.rmtree(work, ignore_errors=True)


GO_MANIFEST = """\
version: 1
project:
  name: local-fallback
services:
  api:
    type: web
    source: api
    port: 8080
  hello:
    type: web
    source: hello
    port: 8000
    subdomain: hello-fallback
"""


@pytest.mark.slow
def test_a_stack_that_cannot_run_here_is_simulated_and_says_so_in_logs_and_status() -> None:
    work = reachable_tmp("odplan-gw-go-")
    try:
        manifest = project(work / "app", GO_MANIFEST, hello="py_app")
        api = manifest.parent / "api"
        api.mkdir()
        (api / "go.mod").write_text("module example.com/api\n\ngo 1.22\n")
        (api / "main.go").write_text(
            'package main\n\nimport "net/http"\n\n'
            'func main() { http.ListenAndServe(":8080", nil) }\n'
        )
        with local_gateway(work / "runtime") as gateway:
            tool = odplan(gateway, work, manifest)
            applied = tool.apply()
            assert applied.returncode == 0, applied.stdout + applied.stderr
            logs = tool.run("logs", "api", "--build")
            assert "its deployment is SIMULATED" in logs.stdout, logs.stdout + logs.stderr
            assert "missing a go toolchain" in logs.stdout
            status = tool.run("status")
            assert status.returncode == 0, status.stdout + status.stderr
            [api_row] = [line for line in status.stdout.splitlines() if line.startswith("api ")]
            assert "success (simulated)" in api_row
            [hello_row] = [line for line in status.stdout.splitlines() if line.startswith("hello ")]
            assert "simulated" not in hello_row  # really built and running
            assert "api: SIMULATED by the local gateway" in status.stdout
            assert "missing a go toolchain" in status.stdout
            as_json = json.loads(tool.run("status", "--json").stdout)
            simulated = {row["name"]: row["simulated"] for row in as_json["services"]}
            assert simulated["api"].startswith("a go toolchain") and simulated["hello"] == ""
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.slow
def test_a_memory_limit_lowered_on_a_running_service_is_enforced_without_a_redeploy() -> None:
    work = reachable_tmp("odplan-gw-mem-")
    try:
        manifest = project(work / "app", ONE_APP_MANIFEST, hello="py_app")
        with local_gateway(work / "runtime") as gateway:
            applied = odplan(gateway, work, manifest).apply()
            assert applied.returncode == 0, applied.stdout + applied.stderr
            runtime = gateway.emulator.runner.runtime
            [service_key] = runtime.running_services()
            release = runtime.current(service_key)
            assert release is not None and release.process is not None
            assert release.memory_limit_mb is not None and release.memory_limit_mb >= 1024
            # A resize as the API's service update stores it (below what the app uses).
            with gateway.emulator.store.transaction() as tx:
                row = tx.one("SELECT spec FROM services WHERE id=?", (service_key,))
                assert row is not None
                spec = {**json.loads(row["spec"]), "memory_limit": "2Mi"}
                tx.execute(
                    "UPDATE services SET spec=? WHERE id=?", (Sealed(json.dumps(spec)), service_key)
                )
            assert release.process.wait(10) is not None  # stopped by its limit, no redeploy
            lines = [line.message for line in release.log.lines()]
            assert any("memory limit changed to 2 MiB while running" in m for m in lines)
            assert any("out of memory" in m for m in lines), lines
            assert runtime.releases()[0].memory_limit_mb == 2  # a restart keeps the new limit
    finally:
        shutil.rmtree(work, ignore_errors=True)
