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

from .conftest import FIXTURES

TOOLS = Toolchains(
    python="/usr/bin/python3",
    uv=None,
    node="/usr/bin/node",
    npm="/usr/bin/npm",
    pnpm=None,
    yarn=None,
)


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
