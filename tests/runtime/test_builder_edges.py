"""The builder's decisions that need no real toolchain: which folder a static site is served
from, how dependency caches are keyed (and reused), what a finished artifact records, and
what a worker, a web service and a static site are planned with. A stand-in `npm` (a real
script on PATH) shows which install command runs and when the cache spares it."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from opendeploy_plan.runtime import (
    Builder,
    BuildFailed,
    LogStream,
    ServiceSettings,
    Toolchains,
    plan_build,
)
from opendeploy_plan.runtime.builder import Artifact, _digest

from .conftest import FIXTURES, NPM_ONLY

TOOLS = NPM_ONLY


# -- cache keys -----------------------------------------------------------------------------
def test_cache_keys_tell_apart_parts_that_concatenate_alike() -> None:
    assert _digest(b"ab", b"c") != _digest(b"a", b"bc")
    assert _digest(b"ab") != _digest(b"ab", b"")
    assert _digest(b"x", b"y") == _digest(b"x", b"y")
    assert len(_digest(b"x")) == 20 and all(c in "0123456789abcdef" for c in _digest(b"x"))


# -- static roots ---------------------------------------------------------------------------
def _page(folder: Path, text: str = "x") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(text)
    return folder / "index.html"


def test_without_a_build_the_root_index_wins_then_the_first_usual_output_folder(
    tmp_path: Path,
) -> None:
    (tmp_path / "build").mkdir()
    (tmp_path / "public").mkdir()
    assert Builder._static_root(tmp_path, None) == tmp_path / "build"
    (tmp_path / "dist").mkdir()
    assert Builder._static_root(tmp_path, None) == tmp_path / "dist"
    _page(tmp_path)
    assert Builder._static_root(tmp_path, None) == tmp_path


def test_without_a_build_or_any_output_folder_the_source_is_served(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    assert Builder._static_root(tmp_path, None) == tmp_path


def test_after_a_build_the_shallowest_folder_it_wrote_a_page_in_is_served(tmp_path: Path) -> None:
    untouched = _page(tmp_path / "site")
    before = {untouched: untouched.stat().st_mtime_ns}
    _page(tmp_path / "gen" / "deep" / "nested")
    _page(tmp_path / "zz")
    _page(tmp_path / "aa")
    assert Builder._static_root(tmp_path, before) == tmp_path / "aa"


def test_after_a_build_that_wrote_no_page_a_usual_output_with_an_index_is_served(
    tmp_path: Path,
) -> None:
    pages = [_page(tmp_path / "public"), _page(tmp_path)]
    before = {page: page.stat().st_mtime_ns for page in pages}
    (tmp_path / "dist").mkdir()  # an output folder without a page does not count here
    assert Builder._static_root(tmp_path, before) == tmp_path / "public"
    # Nothing anywhere: the root (it has an index.html) is served.
    (tmp_path / "public" / "index.html").unlink()
    before.pop(tmp_path / "public" / "index.html")
    assert Builder._static_root(tmp_path, before) == tmp_path


# -- artifacts and plans --------------------------------------------------------------------
def test_an_artifact_record_round_trips(tmp_path: Path) -> None:
    artifact = Artifact(
        folder=str(tmp_path),
        app_dir=str(tmp_path / "app"),
        stack="python",
        kind="web",
        start_command="python app.py",
        port=8000,
        health_check_path="/h",
        path_prefix=("/v/bin", "/w/bin"),
        static_root=None,
        extra_env={"PYTHONUNBUFFERED": "1"},
    )
    artifact.save()
    assert Artifact.load(tmp_path) == artifact
    assert json.loads((tmp_path / "artifact.json").read_text())["port"] == 8000


def test_a_worker_gets_no_port_and_no_health_path_whatever_is_detected() -> None:
    worker = plan_build(
        FIXTURES / "worker_app",
        ServiceSettings("w", health_check_path="/health"),
        TOOLS,
        in_artifact=False,
    )
    assert (worker.kind, worker.port, worker.health_check_path) == ("worker", None, "")
    assert worker.package_manager == "pip"


def test_a_web_service_keeps_its_health_path_and_settings_override_detection() -> None:
    web = plan_build(
        FIXTURES / "py_app",
        ServiceSettings("p", start_command="python app.py", build_command="echo built"),
        TOOLS,
        in_artifact=False,
    )
    assert web.kind == "web" and web.build_command == "echo built"
    routed = plan_build(
        FIXTURES / "py_app",
        ServiceSettings("p", start_command="python app.py", health_check_path="/ready"),
        TOOLS,
        in_artifact=False,
    )
    assert routed.health_check_path == "/ready"


def test_a_python_app_without_python_is_unsupported() -> None:
    from opendeploy_plan.runtime import BuildUnsupported

    no_python = Toolchains(python=None, uv=None, node=None, npm=None, pnpm=None, yarn=None)
    with pytest.raises(BuildUnsupported, match="python3"):
        plan_build(FIXTURES / "py_app", ServiceSettings("p"), no_python, in_artifact=False)
    static = plan_build(
        FIXTURES / "static_site", ServiceSettings("s"), no_python, in_artifact=False
    )
    assert static.stack == "static"


def test_a_source_that_is_not_a_folder_fails_naming_it(tmp_path: Path) -> None:
    builder = Builder(tmp_path / "cache", TOOLS, None)
    with pytest.raises(BuildFailed, match=r"^source_path web/ is not a folder$"):
        builder.build(
            tmp_path / "missing",
            tmp_path / "a",
            ServiceSettings("s", source_path="web/"),
            LogStream(),
            threading.Event(),
        )
    with pytest.raises(BuildFailed, match=r"^source_path \. is not a folder$"):
        builder.build(
            tmp_path / "missing",
            tmp_path / "a",
            ServiceSettings("s"),
            LogStream(),
            threading.Event(),
        )


def test_the_build_environment_points_every_tool_cache_under_the_cache_root(
    tmp_path: Path,
) -> None:
    builder = Builder(tmp_path / "cache", TOOLS, None)
    env = builder.base_env(tmp_path / "home")
    assert env["HOME"] == str(tmp_path / "home")
    assert env["PIP_CACHE_DIR"] == str(tmp_path / "cache" / "pip")
    assert env["UV_CACHE_DIR"] == str(tmp_path / "cache" / "uv")
    assert env["npm_config_cache"] == str(tmp_path / "cache" / "npm")
    assert (env["NO_COLOR"], env["CI"]) == ("1", "true")
    assert env["PATH"].split(":")[0] == "/usr/bin"
    for tool in ("pip", "uv", "npm"):
        assert (tmp_path / "cache" / tool).is_dir()


# -- node_modules with a stand-in npm -------------------------------------------------------
@pytest.fixture
def fake_npm(tmp_path: Path) -> tuple[Builder, Path]:
    """A Builder whose `npm` is a script that records its arguments and makes node_modules."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "npm-calls.txt"
    script = bin_dir / "npm"
    script.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nmkdir -p node_modules/.bin\n')
    script.chmod(0o755)
    # Every tool in `bin`, so the stand-in comes first on the build's PATH.
    tools = Toolchains(
        python=None,
        uv=None,
        node=str(bin_dir / "node"),
        npm=str(script),
        pnpm=None,
        yarn=None,
    )
    return Builder(tmp_path / "cache", tools, None), calls


def _node_app(folder: Path, deps: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True)
    manifest = {"name": "a", "scripts": {"start": "node s.js"}, "dependencies": deps or {}}
    (folder / "package.json").write_text(json.dumps(manifest))
    return folder


def _install(builder: Builder, app: Path, log: LogStream) -> Path | None:
    env = builder.base_env(app.parent / "home")
    return builder._node_modules(app, "npm", env, log, threading.Event())


def test_an_app_without_dependencies_installs_nothing(
    fake_npm: tuple[Builder, Path], tmp_path: Path
) -> None:
    builder, calls = fake_npm
    app = _node_app(tmp_path / "app")
    log = LogStream()
    assert _install(builder, app, log) is None
    assert not calls.exists()
    assert not (app / "node_modules").exists()
    assert "no npm dependencies to install" in [line.message for line in log.lines()]


def test_an_unreadable_package_json_fails_the_build(
    fake_npm: tuple[Builder, Path], tmp_path: Path
) -> None:
    builder, _ = fake_npm
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text("{not json")
    with pytest.raises(BuildFailed, match=r"^package\.json: "):
        _install(builder, app, LogStream())


def test_npm_ci_with_a_lockfile_install_without_and_the_cache_spares_a_repeat(
    fake_npm: tuple[Builder, Path], tmp_path: Path
) -> None:
    builder, calls = fake_npm
    loose = _node_app(tmp_path / "one" / "app", {"left-pad": "1.0.0"})
    entry = _install(builder, loose, LogStream())
    assert entry is not None and (entry / ".complete").exists()
    assert (loose / "node_modules").resolve() == (entry / "node_modules").resolve()
    assert calls.read_text().splitlines() == ["install --include=dev"]

    same = _node_app(tmp_path / "two" / "app", {"left-pad": "1.0.0"})
    log = LogStream()
    assert _install(builder, same, log) == entry
    assert calls.read_text().splitlines() == ["install --include=dev"]
    assert any("reusing node_modules" in line.message for line in log.lines())

    locked = _node_app(tmp_path / "three" / "app", {"left-pad": "1.0.0"})
    (locked / "package-lock.json").write_text("{}")
    assert _install(builder, locked, LogStream()) not in (None, entry)
    assert calls.read_text().splitlines()[-1] == "ci --include=dev"


def test_a_lockfile_of_another_manager_changes_the_cache_key(
    fake_npm: tuple[Builder, Path], tmp_path: Path
) -> None:
    builder, calls = fake_npm
    plain = _node_app(tmp_path / "one" / "app", {"x": "1"})
    yarned = _node_app(tmp_path / "two" / "app", {"x": "1"})
    (yarned / "yarn.lock").write_text("# yarn lockfile v1\n")
    first, second = _install(builder, plain, LogStream()), _install(builder, yarned, LogStream())
    assert first != second
    assert (second / "yarn.lock").is_file()  # the entry holds the files it was built from
    # npm, not ci: yarn.lock is not npm's lockfile
    assert calls.read_text().splitlines() == ["install --include=dev", "install --include=dev"]


def test_dev_dependencies_alone_are_installed(
    fake_npm: tuple[Builder, Path], tmp_path: Path
) -> None:
    builder, calls = fake_npm
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"devDependencies": {"vite": "5"}}))
    assert _install(builder, app, LogStream()) is not None
    assert calls.read_text().splitlines() == ["install --include=dev"]


def test_a_page_the_build_rewrote_counts_as_written(tmp_path: Path) -> None:
    root_page = _page(tmp_path)
    rewritten = _page(tmp_path / "site", "new")
    before = {
        root_page: root_page.stat().st_mtime_ns,
        rewritten: rewritten.stat().st_mtime_ns - 1_000_000,  # as it was before the build
    }
    assert Builder._static_root(tmp_path, before) == tmp_path / "site"


def test_pages_written_at_one_depth_are_chosen_by_name(tmp_path: Path) -> None:
    for name in ("f", "e", "d", "c", "b", "a", "g"):
        _page(tmp_path / name)
    assert Builder._static_root(tmp_path, {}) == tmp_path / "a"


def test_a_python_app_without_a_package_manager_installs_with_pip(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text('if __name__ == "__main__":\n    print(1)\n')
    plan = plan_build(tmp_path, ServiceSettings("p"), TOOLS, in_artifact=False)
    assert (plan.stack, plan.package_manager) == ("python", "pip")


def test_the_settings_build_command_replaces_the_detected_one(tmp_path: Path) -> None:
    scripts = {"build": "tsc", "start": "node dist/s.js"}
    (tmp_path / "package.json").write_text(json.dumps({"name": "a", "scripts": scripts}))
    detected = plan_build(tmp_path, ServiceSettings("n"), TOOLS, in_artifact=False)
    assert detected.build_command == "npm run build"
    chosen = plan_build(
        tmp_path, ServiceSettings("n", build_command="make site"), TOOLS, in_artifact=False
    )
    assert chosen.build_command == "make site"
