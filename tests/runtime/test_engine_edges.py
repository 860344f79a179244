"""The engine's pure decisions: a start command is pointed at the release's loopback port
whatever way it names a host and port (and a version number or another address is left
alone), and the shared cache folder is the one the environment names first."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.runtime.engine import default_cache_dir, rewrite_start_command


@pytest.mark.parametrize(
    ("command", "rewritten"),
    [
        ("next start -p 3000", "next start -p 4321"),
        ("serve -p3000", "serve -p4321"),
        ("vite preview --port=5173", "vite preview --port=4321"),
        ("app --listen 8080", "app --listen 4321"),
        ("gunicorn -b localhost:8000 a:b", "gunicorn -b 127.0.0.1:4321 a:b"),
        ("gunicorn -b 127.0.0.1:8000 a:b", "gunicorn -b 127.0.0.1:4321 a:b"),
        ("uvicorn a:b --host 0.0.0.0", "uvicorn a:b --host 127.0.0.1"),
        ("uvicorn a:b --host ::", "uvicorn a:b --host 127.0.0.1"),
        ("uvicorn a:b --host :: --port 10", "uvicorn a:b --host 127.0.0.1 --port 4321"),
        ("app --host 10.0.0.0 --ver 1.0.0.0", "app --host 10.0.0.0 --ver 1.0.0.0"),
        ("app --port 8", "app --port 8"),
        ("app --port 123456", "app --port 123456"),
        ("app --prefix ::1", "app --prefix ::1"),
    ],
)
def test_start_commands_are_pointed_at_the_release_port(command: str, rewritten: str) -> None:
    assert rewrite_start_command(command, 4321) == rewritten


def test_the_cache_folder_named_by_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ODPLAN_RUNTIME_CACHE", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("ODPLAN_RUNTIME_CACHE", "")
    assert default_cache_dir() != Path("")


def test_an_ipv6_any_address_with_a_port_is_pointed_at_the_release_port() -> None:
    """`[::]:8000` was listed but never matched (no word boundary before `[`)."""
    assert rewrite_start_command("hypercorn --bind [::]:8000 a:b", 4321) == (
        "hypercorn --bind 127.0.0.1:4321 a:b"
    )
    assert rewrite_start_command("app [::]:80", 4321) == "app 127.0.0.1:4321"
