"""plan_build reads analyze's findings; the builder caches dependencies by content."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from opendeploy_plan.runtime import (
    Builder,
    BuildFailed,
    BuildUnsupported,
    LogStream,
    ServiceSettings,
    Toolchains,
    plan_build,
    unprivileged_user,
)
from opendeploy_plan.runtime.engine import rewrite_start_command

from .conftest import FIXTURES, NPM_ONLY

TOOLS = NPM_ONLY


def test_plans_follow_analysis_and_settings() -> None:
    node = plan_build(FIXTURES / "node_app", ServiceSettings("web"), TOOLS, in_artifact=False)
    assert (node.stack, node.kind, node.start_command, node.port) == (
        "node",
        "web",
        "npm start",
        3000,
    )
    static = plan_build(FIXTURES / "static_site", ServiceSettings("s"), TOOLS, in_artifact=False)
    assert (static.stack, static.kind, static.start_command) == ("static", "static", None)
    docker = plan_build(FIXTURES / "docker_py", ServiceSettings("d"), TOOLS, in_artifact=False)
    assert (docker.stack, docker.start_command, docker.port) == ("python", "python app.py", 8080)
    chosen = plan_build(
        FIXTURES / "py_app",
        ServiceSettings("p", start_command="python app.py", port=9000, health_check_path="/env"),
        TOOLS,
        in_artifact=False,
    )
    assert (chosen.start_command, chosen.port, chosen.health_check_path) == (
        "python app.py",
        9000,
        "/env",
    )


def test_missing_toolchain_and_missing_start_command(tmp_path: Path) -> None:
    no_node = Toolchains(
        python="/usr/bin/python3", uv=None, node=None, npm=None, pnpm=None, yarn=None
    )
    with pytest.raises(BuildUnsupported, match="node"):
        plan_build(FIXTURES / "node_app", ServiceSettings("web"), no_node, in_artifact=False)
    # A library with no program to run: nothing to start.
    (tmp_path / "requirements.txt").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("def f():\n    return 1\n")
    with pytest.raises(BuildFailed, match="add a Procfile"):
        plan_build(tmp_path, ServiceSettings("p"), TOOLS, in_artifact=False)


def test_start_commands_are_pointed_at_the_assigned_loopback_port() -> None:
    assert rewrite_start_command("uvicorn main:app --host 0.0.0.0 --port 8000", 4321) == (
        "uvicorn main:app --host 127.0.0.1 --port 4321"
    )
    assert rewrite_start_command("gunicorn -b 0.0.0.0:8000 app:app", 4321) == (
        "gunicorn -b 127.0.0.1:4321 app:app"
    )
    assert rewrite_start_command("python app.py", 4321) == "python app.py"


def test_second_build_with_unchanged_dependencies_reuses_the_environment(
    work_dir: Path,
) -> None:
    run_as = unprivileged_user()
    builder = Builder(work_dir / "cache", Toolchains.detect(run_as), run_as)
    settings = ServiceSettings("p", start_command="python app.py")
    first_log, second_log = LogStream(), LogStream()
    first = builder.build(
        FIXTURES / "py_app", work_dir / "a1", settings, first_log, threading.Event()
    )
    second = builder.build(
        FIXTURES / "py_app", work_dir / "a2", settings, second_log, threading.Event()
    )
    assert first.path_prefix == second.path_prefix  # one shared virtualenv
    assert first.app_dir != second.app_dir  # each deployment its own artifact
    assert any("reusing environment" in line.message for line in second_log.lines())
    assert (Path(second.app_dir) / "app.py").is_file()


def test_a_custom_dockerfile_path_is_read_or_named_missing(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text("")
    (app / "server.py").write_text("print('hi')\n")
    (app / "deploy").mkdir()
    (app / "deploy" / "web.Dockerfile").write_text(
        'FROM python:3.12-slim\nEXPOSE 7000\nCMD ["python", "server.py"]\n'
    )
    planned = plan_build(app, ServiceSettings("w", dockerfile_path="deploy/web.Dockerfile"), TOOLS)
    assert (planned.stack, planned.start_command, planned.port) == (
        "python",
        "python server.py",
        7000,
    )
    with pytest.raises(BuildFailed, match=r"^dockerfile_path deploy/none\.Dockerfile does not"):
        plan_build(app, ServiceSettings("w", dockerfile_path="deploy/none.Dockerfile"), TOOLS)


def test_a_port_in_the_settings_makes_a_worker_a_web_service() -> None:
    worker = plan_build(FIXTURES / "worker_app", ServiceSettings("w"), TOOLS, in_artifact=False)
    assert worker.kind == "worker" and worker.port is None
    routed = plan_build(
        FIXTURES / "worker_app", ServiceSettings("w", port=9100), TOOLS, in_artifact=False
    )
    assert (routed.kind, routed.port) == ("web", 9100)


def test_a_dockerfile_of_another_language_needs_a_container_runtime(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.com/x\n\ngo 1.22\n")
    (tmp_path / "main.go").write_text("package main\nfunc main() {}\n")
    (tmp_path / "Dockerfile").write_text('FROM golang:1.22\nCMD ["/app"]\n')
    with pytest.raises(BuildUnsupported, match=r"a container runtime for Dockerfile \(a go app\)"):
        plan_build(tmp_path, ServiceSettings("g"), TOOLS, in_artifact=False)
