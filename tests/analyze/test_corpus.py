"""The corpus (tests/analyze/corpus/): each app through the real `odplan init`, in a temporary
copy, must give the expected language, type, port, start command and databases, and never
refuse an app whose language can be told."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from opendeploy_plan.cli import main
from tests.analyze.corpus import ALL_APPS, App, materialize

SUBPROCESS_APPS = (
    "py-gunicorn-bind-beats-expose",
    "deno-jsonc",
    "rust-workspace-glob",
    "laravel-vite-postgres",
    "cobol-hello",
)


def _service(data: dict[str, Any], app: App) -> dict[str, Any]:
    services = data["services"]
    if app.service is None:
        assert len(services) == 1, [s["name"] for s in services]
        return dict(services[0])
    by_name = {s["name"]: s for s in services}
    assert app.service in by_name, sorted(by_name)
    return dict(by_name[app.service])


def check(app: App, data: dict[str, Any], manifest_text: str) -> None:
    """The JSON analysis and the written manifest both say what the app expects."""
    service = _service(data, app)
    manifest = yaml.safe_load(manifest_text)
    written = manifest["services"][service["name"]]
    assert written.get("type", "web") == app.type, manifest_text
    assert written.get("language") == app.language, manifest_text
    assert written.get("port") == app.port, manifest_text
    if app.framework is not None:
        assert written.get("framework") == app.framework, manifest_text
    start = (service.get("start_command") or {}).get("value")
    if app.start is None:
        assert start is None, start
    else:
        assert start is not None and app.start in start, (start, app.start)
        # The start command and the port agree: a port the command names is the port.
        assert f"# start command: {' '.join(start.split())}" in manifest_text
    types = sorted(
        dep["type"]
        for name, dep in (manifest.get("dependencies") or {}).items()
        if name in (written.get("uses") or [])
    )
    assert types == sorted(app.db), (types, manifest_text)


@pytest.mark.parametrize("app", ALL_APPS, ids=[a.name for a in ALL_APPS])
def test_init_detects_the_corpus_app(app: App, tmp_path: Path) -> None:
    root = materialize(app, tmp_path / app.name)
    result = CliRunner().invoke(main, ["init", str(root), "--json"])
    assert result.exit_code == 0, result.output
    check(app, json.loads(result.stdout), (root / "opendeploy.yaml").read_text())


@pytest.mark.parametrize("name", SUBPROCESS_APPS)
def test_init_as_a_process(name: str, tmp_path: Path) -> None:
    app = next(a for a in ALL_APPS if a.name == name)
    root = materialize(app, tmp_path / app.name)
    env = {k: v for k, v in os.environ.items() if k != "ODPLAN_INTERACTIVE"}
    done = subprocess.run(
        [sys.executable, "-m", "opendeploy_plan", "init", str(root), "--json"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    check(app, json.loads(done.stdout), (root / "opendeploy.yaml").read_text())


def test_the_corpus_covers_every_bullet_of_the_issue() -> None:
    assert len(ALL_APPS) >= 120
    kinds = {a.type for a in ALL_APPS}
    assert kinds == {"web", "worker", "static"}
    languages = {a.language for a in ALL_APPS}
    for language in (
        "python",
        "javascript",
        "typescript",
        "deno",
        "go",
        "rust",
        "java",
        "kotlin",
        "csharp",
        "php",
        "ruby",
        "elixir",
        "c",
        "cpp",
        "cobol",
        "scheme",
        "haskell",
        "crystal",
        "zig",
        "dart",
        "swift",
    ):
        assert language in languages, language


def test_a_workspace_library_is_not_a_service(tmp_path: Path) -> None:
    app = next(a for a in ALL_APPS if a.name == "turbo-pnpm-web")
    root = materialize(app, tmp_path / app.name)
    result = CliRunner().invoke(main, ["init", str(root), "--json"])
    assert result.exit_code == 0, result.output
    names = {s["name"] for s in json.loads(result.stdout)["services"]}
    assert names == {"web", "api", "admin"}
