"""Commands adapted to run natively, checked directly: which servers get a `$PORT` argument
(and which commands are left alone: chains, pipes, substitutions, named ports), where a
`poetry run`-style wrapper is dropped (only in command position), how a package.json's scripts
are read (an unreadable one has none), and how pnpm/yarn calls become npm ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opendeploy_plan.runtime.commands import (
    as_npm,
    bound_to_port,
    package_scripts,
    without_runner,
)


@pytest.mark.parametrize(
    ("command", "bound"),
    [
        ("hypercorn app:app", "hypercorn app:app --bind 127.0.0.1:$PORT"),
        ("daphne proj.asgi:application", "daphne proj.asgi:application -p $PORT"),
        ("waitress-serve app:app", "waitress-serve app:app --port=$PORT"),
        ("flask --app x run", "flask --app x run --port $PORT"),
        ("streamlit run app.py", "streamlit run app.py --server.port $PORT"),
        ("python manage.py runserver", "python manage.py runserver 127.0.0.1:$PORT"),
    ],
)
def test_servers_that_ignore_port_get_the_argument_and_a_note(command: str, bound: str) -> None:
    result, note = bound_to_port(command)
    assert result == bound
    assert note is not None and "does not read PORT" in note and bound[len(command) + 1 :] in note


@pytest.mark.parametrize(
    "command",
    [
        "",
        "uvicorn a:b; echo",
        "uvicorn a:b | tee log",
        "uvicorn a:b || true",
        "uvicorn `cat args`",
        "uvicorn $(cat args)",
        "uvicorn a:b --port $PORT",
        "python -m http.server  8080",
        "flask routes",
        "node server.js",
    ],
)
def test_commands_that_bind_already_or_are_not_simple_are_left_alone(command: str) -> None:
    assert bound_to_port(command) == (command, None)


def test_the_note_names_the_server_it_matched() -> None:
    _, note = bound_to_port("uvicorn main:app")
    assert note == (
        "the start command names no port and `uvicorn` does not read PORT: "
        "running it with `--port $PORT`"
    )


def test_runner_wrappers_are_dropped_only_where_a_command_starts() -> None:
    assert without_runner("poetry  run  gunicorn app:app") == "gunicorn app:app"
    assert without_runner("a; uv run b && pdm run c") == "a; b && c"
    assert without_runner("echo poetry run x") == "echo poetry run x"
    assert without_runner("uv run") == "uv run"
    assert without_runner("uvx run x") == "uvx run x"


def test_package_scripts_of_unreadable_or_odd_manifests_are_none(tmp_path: Path) -> None:
    assert package_scripts(tmp_path) == set()
    (tmp_path / "package.json").write_text("{oops")
    assert package_scripts(tmp_path) == set()
    (tmp_path / "package.json").write_text("[]")
    assert package_scripts(tmp_path) == set()
    (tmp_path / "package.json").write_text(json.dumps({"scripts": ["build"]}))
    assert package_scripts(tmp_path) == set()
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {"build": "x", "dev": "y"}}))
    assert package_scripts(tmp_path) == {"build", "dev"}


@pytest.mark.parametrize(
    ("command", "run"),
    [
        ("pnpm build", "npm run build"),
        ("pnpm i && pnpm run build", "npm run build"),
        ("pnpm install", ""),
        ("pnpm", ""),
        ("yarn build && pnpm build", "yarn build && npm run build"),  # only the missing tool
        ("pnpm build -- --watch", "npm run build -- --watch"),
        ("pnpm build --watch", "npm run build -- --watch"),
        ("pnpm exec vite build", "vite build"),
        ("pnpm vite", "vite"),
        ("  pnpm start  ", "npm start"),
    ],
)
def test_pnpm_calls_run_through_npm(command: str, run: str) -> None:
    assert as_npm(command, "pnpm", {"build", "start"}) == run


def test_a_tool_whose_name_only_starts_like_pnpm_or_yarn_is_kept() -> None:
    """`yarn-deduplicate` or `yarnpkg build` is not a `yarn` call: it was dropped whole."""
    assert as_npm("yarn-deduplicate && yarn build", "yarn", {"build"}) == (
        "yarn-deduplicate && npm run build"
    )
    assert as_npm("yarnpkg build", "yarn", {"build"}) == "yarnpkg build"
    assert as_npm("pnpmx build", "pnpm", {"build"}) == "pnpmx build"


def test_a_script_named_like_an_install_verb_runs_when_asked_for_by_run() -> None:
    scripts = {"install", "build"}
    assert as_npm("pnpm run install", "pnpm", scripts) == "npm run install"
    assert as_npm("pnpm install", "pnpm", scripts) == ""
    assert as_npm("pnpm exec build", "pnpm", scripts) == "build"  # exec: a binary, not a script


@pytest.mark.parametrize(
    ("command", "tool", "expected"),
    [
        # A bare install with flags is the install the builder already did: dropped.
        ("yarn --frozen-lockfile && yarn build", "yarn", "npm run build"),
        ("pnpm --frozen-lockfile", "pnpm", ""),
        # Flags before a script name are not a call this rewrite understands: kept as written.
        ("pnpm --filter web build", "pnpm", "pnpm --filter web build"),
    ],
)
def test_flags_are_never_taken_for_a_script_name(command: str, tool: str, expected: str) -> None:
    assert as_npm(command, tool, {"build", "start"}) == expected
