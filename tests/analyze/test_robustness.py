"""Strange repositories get an honest answer, never a traceback; env values never leak."""

from __future__ import annotations

import json
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opendeploy_plan.analyze import RepoView, analysis_to_dict, analyze, render_manifest


def test_malformed_manifests_do_not_raise(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{ not json")
    (tmp_path / "pyproject.toml").write_text("[project\nname = ")
    (tmp_path / "docker-compose.yml").write_text("services: [unclosed")
    (tmp_path / "Cargo.toml").write_text("= = =")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 10)
    analysis = analyze(tmp_path)
    # pyproject.toml exists, so Python packaging is the (weak) evidence; nothing crashes.
    assert analysis.services
    render_manifest(analysis)
    json.dumps(analysis_to_dict(analysis))


def test_empty_folder_is_refused_honestly(tmp_path: Path) -> None:
    analysis = analyze(tmp_path)
    assert analysis.refusal is not None and "no files" in analysis.refusal


def test_repo_view_skips_dependency_and_build_folders(tmp_path: Path) -> None:
    for folder in ("node_modules/x", ".git", "dist", "target", "vendor/y", "__pycache__", ".venv"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "package.json").write_text("{}")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.js").write_text("")
    assert RepoView(tmp_path).files == ("src/index.js",)


def test_repo_view_never_returns_binary_or_oversized_text(tmp_path: Path) -> None:
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    (tmp_path / "big.js").write_text("x" * 2000)
    view = RepoView(tmp_path)
    assert view.read("image.png") is None
    assert view.read("big.js", limit=1000) is None
    assert view.read("missing.txt") is None


_names = st.text(string.ascii_uppercase + "_", min_size=3, max_size=20).filter(
    lambda n: n[0] != "_"
)
_values = st.text(string.ascii_letters + string.digits + "-", min_size=12, max_size=30)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(_names, _values, min_size=1, max_size=6))
def test_no_real_env_value_reaches_any_output(tmp_path: Path, env: dict[str, str]) -> None:
    root = tmp_path / "app"
    root.mkdir(exist_ok=True)
    (root / "package.json").write_text(
        '{"scripts": {"start": "node i.js"}, "dependencies": {"express": "4"}}'
    )
    (root / "i.js").write_text("require('express')().listen(3000)\n")
    marked = {name: f"zz{value}zz" for name, value in env.items()}
    (root / ".env").write_text("".join(f"{k}={v}\n" for k, v in marked.items()))
    analysis = analyze(root)
    outputs = render_manifest(analysis) + json.dumps(analysis_to_dict(analysis))
    for value in marked.values():
        assert value not in outputs
