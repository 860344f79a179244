"""What the real-apps sweep (tests/runtime/test_real_apps.py) found broken, each pinned by a
test: tool caches the build user cannot create, a missing pnpm/yarn whose commands were still
run, `poetry run`-style wrappers, Poetry and Pipfile dependencies never installed, colour codes
in build logs, dev dependencies dropped by NODE_ENV=production, and an app that ignores PORT or
a wrong health-check path failing only at the 60 s timeout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from opendeploy_plan.runtime import (
    Builder,
    BuildUnsupported,
    LogStream,
    ServiceSettings,
    Toolchains,
    health,
    plan_build,
    unprivileged_user,
)
from opendeploy_plan.runtime.engine import DeployRequest, LocalRuntime
from opendeploy_plan.runtime.health import listening_ports, wait_until_healthy
from opendeploy_plan.runtime.ports import free_port
from opendeploy_plan.runtime.pyrequirements import declared_requirements, poetry_constraint

from .conftest import FIXTURES, NPM_ONLY, get_through_router, reachable_tmp

REAL_APPS = FIXTURES / "real-apps"
NO_PNPM_NO_YARN = NPM_ONLY


def test_tool_caches_under_a_root_owned_cache_belong_to_the_build_user() -> None:
    run_as = unprivileged_user()
    if run_as is None:
        pytest.skip("not root: the build user is this user, who owns the cache anyway")
    cache = reachable_tmp("odplan-cache-")  # created by root, as ODPLAN_RUNTIME_CACHE may be
    try:
        Builder(cache, NO_PNPM_NO_YARN, run_as)
        for tool in ("pip", "uv", "npm"):
            assert (cache / tool).stat().st_uid == run_as.uid, tool
    finally:
        shutil.rmtree(cache, ignore_errors=True)


@pytest.mark.parametrize(
    ("app", "tool", "lockfile"),
    [
        ("node-pnpm", "pnpm", "pnpm-lock.yaml"),
        ("node-yarn", "yarn", "yarn.lock"),
    ],
)
def test_a_missing_pnpm_or_yarn_runs_its_scripts_through_npm_and_says_so(
    app: str, tool: str, lockfile: str
) -> None:
    plan = plan_build(REAL_APPS / app, ServiceSettings(app), NO_PNPM_NO_YARN, in_artifact=False)
    assert (plan.package_manager, plan.start_command) == ("npm", "npm start")
    (note,) = plan.notes
    assert f"{tool} (lockfile {lockfile}) is not installed here" in note
    assert "installing with npm instead" in note
    # Where the tool exists, it is used as detected.
    with_tool = Toolchains(**{**NO_PNPM_NO_YARN.__dict__, tool: f"/usr/bin/{tool}"})
    plan = plan_build(REAL_APPS / app, ServiceSettings(app), with_tool, in_artifact=False)
    assert (plan.package_manager, plan.start_command, plan.notes) == (tool, f"{tool} start", ())


@pytest.mark.parametrize(
    ("written", "run"),
    [
        ("yarn build", "npm run build"),
        ("yarn run build:prod --mode x", "npm run build:prod -- --mode x"),
        ("yarn start -- --port 1", "npm start -- --port 1"),
        ("yarn install && yarn build", "npm run build"),
        ("yarn && yarn build", "npm run build"),
        (
            "yarn tsc -p .",
            "tsc -p .",
        ),  # a package binary, not a script: node_modules/.bin is on PATH
        ("yarn exec build", "build"),
        ("node build.js", "node build.js"),
    ],
)
def test_yarn_commands_of_the_settings_run_without_yarn(
    work_dir: Path, written: str, run: str
) -> None:
    app = work_dir / "app"
    shutil.copytree(REAL_APPS / "node-yarn", app)
    text = (app / "package.json").read_text()
    scripts = '"start": "node app.js", "build": "true", "build:prod": "true"'
    (app / "package.json").write_text(text.replace('"start": "node app.js"', scripts))
    settings = ServiceSettings("y", build_command=written, start_command=written)
    plan = plan_build(app, settings, NO_PNPM_NO_YARN, in_artifact=False)
    assert (plan.build_command, plan.start_command) == (run, run)


@pytest.mark.parametrize(
    ("procfile", "start"),
    [
        ("web: poetry run gunicorn app:app", "gunicorn app:app"),
        ("web: uv run python app.py", "python app.py"),
        ("web: pipenv run python -m app", "python -m app"),
        ("web: cd . && pdm run gunicorn app:app", "cd . && gunicorn app:app"),
        ("web: python run.py", "python run.py"),
    ],
)
def test_python_runner_wrappers_are_dropped_the_environment_is_ours(
    work_dir: Path, procfile: str, start: str
) -> None:
    app = work_dir / "app"
    shutil.copytree(REAL_APPS / "poetry-flask", app)
    (app / "Procfile").write_text(procfile + "\n")
    plan = plan_build(app, ServiceSettings("p"), NO_PNPM_NO_YARN, in_artifact=False)
    assert plan.start_command == start


@pytest.mark.parametrize(
    ("poetry", "pep440"),
    [
        ("^3.0", ">=3.0,<4"),
        ("^0.2.3", ">=0.2.3,<0.3"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("~1.2.3", ">=1.2.3,<1.3"),
        ("~1", ">=1,<2"),
        ("1.2.3", "==1.2.3"),
        ("1.2.*", "==1.2.*"),
        (">=1.0,<2.0", ">=1.0,<2.0"),
        (">=1.0 <2.0", ">=1.0,<2.0"),
        ("*", ""),
        ("^1 || ^2", ">=1,<2"),
    ],
)
def test_poetry_constraints_become_pip_specifiers(poetry: str, pep440: str) -> None:
    assert poetry_constraint(poetry) == pep440


def test_poetry_and_pipfile_dependencies_are_installed_not_ignored(tmp_path: Path) -> None:
    found, origin, notes = declared_requirements(REAL_APPS / "poetry-flask")
    assert (found, origin, notes) == (
        ["flask>=3.0,<4", "gunicorn>=22.0,<23"],  # no python, no dev group
        "pyproject.toml [tool.poetry.dependencies]",
        [],
    )
    (tmp_path / "pyproject.toml").write_text(
        "[tool.poetry.dependencies]\n"
        'python = "^3.11"\n'
        'uvicorn = { version = "^0.29", extras = ["standard"] }\n'
        'lib = { git = "https://example.org/lib.git", tag = "v1" }\n'
        'local = { path = "../local" }\n'
        'extra = { version = "*", optional = true }\n'
    )
    found, _, notes = declared_requirements(tmp_path)
    assert found == ["uvicorn[standard]>=0.29,<0.30", "lib @ git+https://example.org/lib.git@v1"]
    assert notes == ["local: a local path dependency (../local) is not installed"]
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "Pipfile").write_text(
        '[packages]\nflask = "*"\nrequests = "==2.31.0"\n[dev-packages]\npytest = "*"\n'
    )
    assert declared_requirements(tmp_path)[:2] == (
        ["flask", "requests==2.31.0"],
        "Pipfile [packages]",
    )
    # PEP 621 wins where both are there, as pip itself would read it.
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = ["httpx>=0.27"]\n')
    assert declared_requirements(tmp_path)[:2] == (["httpx>=0.27"], "pyproject.toml [project]")


def test_build_steps_run_without_colour_codes(work_dir: Path) -> None:
    """CI=true makes tools like vite colour their output; the build log is plain text."""
    run_as = unprivileged_user()
    builder = Builder(work_dir / "cache", Toolchains.detect(run_as), run_as)
    app = work_dir / "src"
    app.mkdir()
    app.chmod(0o755)
    (app / "requirements.txt").write_text("")
    (app / "app.py").write_text("print('x')\n")
    check = (
        "import os, sys; sys.stdout.write("
        "'\\x1b[32mgreen\\x1b[39m' if not os.environ.get('NO_COLOR') else 'plain')"
    )
    log = LogStream()
    builder.build(
        app,
        work_dir / "artifact",
        ServiceSettings("c", build_command=f'python -c "{check}"', start_command="python app.py"),
        log,
        threading.Event(),
    )
    messages = [line.message for line in log.lines()]
    assert "plain" in messages
    assert not any("\x1b[" in message for message in messages)


def _listener(port: int) -> subprocess.Popen[bytes]:
    code = (
        "import socket, time\n"
        f"s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen()\n"
        "time.sleep(60)\n"
    )
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)


def test_an_app_listening_on_another_port_fails_early_naming_that_port() -> None:
    wrong, given = free_port(), free_port()
    process = _listener(wrong)
    try:
        assert _wait(lambda: wrong in listening_ports(process.pid))
        started = time.monotonic()
        result = wait_until_healthy(
            port=given,
            health_check_path="",
            exit_code=process.poll,
            timeout=30,
            process_group=process.pid,
        )
        took = time.monotonic() - started
    finally:
        process.kill()
        process.wait()
    assert not result.ok
    assert f"listens on port {wrong}, not on the port it was given in PORT ({given})" in (
        result.detail
    )
    assert took < 10, took  # not the 30 s timeout


def test_an_app_on_its_port_is_healthy_with_the_group_watched() -> None:
    port = free_port()
    process = _listener(port)
    try:
        result = wait_until_healthy(
            port=port,
            health_check_path="",
            exit_code=process.poll,
            timeout=10,
            process_group=process.pid,
        )
    finally:
        process.kill()
        process.wait()
    assert result.ok, result.detail


def _wait(predicate, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@contextmanager
def answering(status: int) -> Iterator[int]:
    """An HTTP server on a free loopback port answering every GET with `status`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_a_health_path_the_app_does_not_have_fails_early_saying_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(health, "WRONG_PATH_SECONDS", 1.0)
    with answering(404) as port:
        started = time.monotonic()
        result = wait_until_healthy(
            port=port, health_check_path="/status", exit_code=lambda: None, timeout=20
        )
    assert not result.ok
    assert result.detail.startswith("GET /status answered 404 for 1 s: the app is up but has no")
    assert "fix health_check_path" in result.detail
    assert time.monotonic() - started < 5


def test_a_health_path_answering_503_is_waited_for_until_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 5xx is an app still warming up (its database, say): no early end."""
    monkeypatch.setattr(health, "WRONG_PATH_SECONDS", 0.5)
    with answering(503) as port:
        result = wait_until_healthy(
            port=port, health_check_path="/health", exit_code=lambda: None, timeout=2
        )
    assert not result.ok
    assert result.detail == (
        f"no healthy answer on port {port} after 2 s (GET /health answered 503)"
    )


@pytest.mark.slow
def test_node_env_production_in_build_env_keeps_the_dev_dependencies_the_build_needs(
    work_dir: Path,
) -> None:
    """`build_env: {NODE_ENV: production}` made npm drop devDependencies, so `tsc` was not
    found; and the node_modules cached under the files' key then lacked them for every
    later build."""
    run_as = unprivileged_user()
    tools = Toolchains.detect(run_as)
    if tools.node is None or tools.npm is None:
        pytest.skip("needs node and npm usable by the build user")
    work_dir.chmod(0o755)
    builder = Builder(work_dir / "cache", tools, run_as)
    settings = ServiceSettings("ts", build_variables={"NODE_ENV": "production"})
    log = LogStream()
    artifact = builder.build(
        REAL_APPS / "node-ts-build", work_dir / "a1", settings, log, threading.Event()
    )
    assert (Path(artifact.app_dir) / "dist" / "server.js").is_file()
    assert any(line.message == "$ npm ci --include=dev" for line in log.lines())


DOCKERFILES = {
    "nginx": "FROM nginx:alpine\nCOPY . /usr/share/nginx/html\nEXPOSE 80\n",
    "node-typescript": (
        "FROM node:20 AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n"
        "FROM node:20-slim\nCOPY --from=build /app/dist ./dist\nEXPOSE 3000\n"
        'CMD ["node", "dist/index.js"]\n'
    ),
    "go": 'FROM golang:1.22\nCOPY . .\nRUN go build -o /srv/app\nCMD ["/srv/app"]\n',
}


def test_dockerfiles_of_static_sites_and_typescript_apps_run_natively(tmp_path: Path) -> None:
    """An nginx image that only serves files, and a TypeScript app's Dockerfile, were refused
    as needing a container runtime ("its base is html/typescript")."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "Dockerfile").write_text(DOCKERFILES["nginx"])
    (site / "index.html").write_text("<h1>hi</h1>\n")
    plan = plan_build(site, ServiceSettings("s"), NO_PNPM_NO_YARN, in_artifact=False)
    assert (plan.stack, plan.kind, plan.start_command) == ("static", "static", None)
    assert "the router serves the site's files itself" in plan.notes[0]

    app = tmp_path / "ts"
    app.mkdir()
    (app / "Dockerfile").write_text(DOCKERFILES["node-typescript"])
    (app / "package.json").write_text(
        '{"name": "x", "scripts": {"build": "tsc"}, "devDependencies": {"typescript": "^5"}}'
    )
    (app / "tsconfig.json").write_text("{}")
    plan = plan_build(app, ServiceSettings("t"), NO_PNPM_NO_YARN, in_artifact=False)
    assert (plan.stack, plan.start_command, plan.build_command, plan.port) == (
        "node",
        "node dist/index.js",
        "npm run build",
        3000,
    )

    go = tmp_path / "go"
    go.mkdir()
    (go / "Dockerfile").write_text(DOCKERFILES["go"])
    (go / "go.mod").write_text("module x\n\ngo 1.22\n")
    (go / "main.go").write_text("package main\n\nfunc main() {}\n")
    with pytest.raises(BuildUnsupported, match=r"a container runtime for Dockerfile \(a go app\)"):
        plan_build(go, ServiceSettings("g"), NO_PNPM_NO_YARN, in_artifact=False)


@pytest.mark.parametrize(
    ("procfile", "start"),
    [
        ("uvicorn main:app --host 0.0.0.0", "uvicorn main:app --host 0.0.0.0 --port $PORT"),
        ("flask run --host=0.0.0.0", "flask run --host=0.0.0.0 --port $PORT"),
        ("python manage.py runserver", "python manage.py runserver 127.0.0.1:$PORT"),
        ("streamlit run app.py", "streamlit run app.py --server.port $PORT"),
        ("python -m http.server", "python -m http.server $PORT"),
        # Named ports (the engine points them at the release's port), PORT readers, chains:
        ("uvicorn main:app --port 8000", "uvicorn main:app --port 8000"),
        ("uvicorn main:app --port ${PORT:-8000}", "uvicorn main:app --port ${PORT:-8000}"),
        ("gunicorn app:app", "gunicorn app:app"),
        ("python -m http.server 8000", "python -m http.server 8000"),
        ("cd src && uvicorn main:app", "cd src && uvicorn main:app"),
    ],
)
def test_servers_that_never_read_port_are_told_it(
    work_dir: Path, procfile: str, start: str
) -> None:
    """uvicorn, `flask run`, runserver... bind their default port whatever PORT says; the
    platform sets PORT to that port, the local runtime gives each release its own."""
    app = work_dir / "app"
    app.mkdir()
    (app / "requirements.txt").write_text("")
    (app / "main.py").write_text("print('hi')\n")
    (app / "Procfile").write_text(f"web: {procfile}\n")
    plan = plan_build(app, ServiceSettings("p", port=8000), NO_PNPM_NO_YARN, in_artifact=False)
    assert plan.start_command == start
    told = [note for note in plan.notes if "does not read PORT" in note]
    assert bool(told) == (start != procfile)


@pytest.mark.slow
def test_a_server_that_ignores_port_and_an_nginx_site_answer_through_the_router(
    runtime: LocalRuntime, work_dir: Path
) -> None:
    served = work_dir / "served"
    served.mkdir()
    (served / "index.html").write_text("stdlib server v1\n")
    (served / "requirements.txt").write_text("")
    (served / "Procfile").write_text("web: python -m http.server\n")
    site = work_dir / "site"
    site.mkdir()
    (site / "Dockerfile").write_text(DOCKERFILES["nginx"])
    (site / "index.html").write_text("nginx site v1\n")
    for folder in (served, site):
        folder.chmod(0o755)
    for key, source in (("served", served), ("nginxsite", site)):
        request = DeployRequest(
            deployment_id=f"{key}-1",
            service_key=key,
            environment="production",
            source_dir=source,
            settings=ServiceSettings(key, port=8000 if key == "served" else None),
            subdomain=key,
        )
        deployment = runtime.deploy(request)
        assert deployment.wait(120)
        log = "\n".join(line.message for line in deployment.log.lines())
        assert deployment.status == "success", log
    assert get_through_router(runtime, "served.localhost").text == "stdlib server v1\n"
    assert get_through_router(runtime, "nginxsite.localhost").text == "nginx site v1\n"


def test_a_static_build_is_served_from_the_folder_it_wrote_whatever_its_name(
    work_dir: Path,
) -> None:
    """A build writing `site/` (vite's `outDir`, say) was served from the source folder: the
    unbuilt index.html, under a URL that answered."""
    run_as = unprivileged_user()
    tools = Toolchains.detect(run_as)
    if tools.node is None or tools.npm is None:
        pytest.skip("needs node and npm usable by the build user")
    work_dir.chmod(0o755)
    app = work_dir / "src"
    app.mkdir()
    app.chmod(0o755)
    (app / "index.html").write_text("source page\n")
    (app / "build.js").write_text(
        "const fs = require('fs');\n"
        "fs.mkdirSync('site/en', { recursive: true });\n"
        "fs.writeFileSync('site/index.html', 'built page');\n"
        "fs.writeFileSync('site/en/index.html', 'built en');\n"
    )
    (app / "package.json").write_text('{"name": "s", "scripts": {"build": "node build.js"}}')
    builder = Builder(work_dir / "cache", tools, run_as)
    log = LogStream()
    artifact = builder.build(
        app,
        work_dir / "a1",
        ServiceSettings("s", build_command="npm run build"),
        log,
        threading.Event(),
    )
    assert artifact.stack == "static"
    assert artifact.static_root == str(Path(artifact.app_dir) / "site")
    assert "site folder: site/" in [line.message for line in log.lines()]
