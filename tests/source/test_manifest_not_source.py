"""The manifest is configuration, not source: it never enters the archive or the digest."""

from __future__ import annotations

from pathlib import Path

from opendeploy_plan.source import digest_source, select_files


def make_tree(root: Path) -> None:
    (root / "app.py").write_text("print('hi')\n")
    (root / "opendeploy.yaml").write_text("version: 1\n")
    (root / "sub").mkdir()
    (root / "sub" / "opendeploy.yaml").write_text("kept: a nested file of that name is source\n")


def test_root_manifest_is_never_selected(tmp_path: Path) -> None:
    make_tree(tmp_path)
    (tmp_path / "opendeploy.yml").write_text("version: 1\n")
    paths = [f.path for f in select_files(tmp_path).files]
    assert paths == ["app.py", "sub/opendeploy.yaml"]


def test_a_custom_manifest_name_is_left_out_when_given(tmp_path: Path) -> None:
    make_tree(tmp_path)
    (tmp_path / "deploy-staging.yaml").write_text("version: 1\n")
    chosen = select_files(tmp_path, manifest=tmp_path / "deploy-staging.yaml")
    assert "deploy-staging.yaml" not in [f.path for f in chosen.files]
    assert "deploy-staging.yaml" in [f.path for f in select_files(tmp_path).files]


def test_editing_the_manifest_does_not_change_the_digest(tmp_path: Path) -> None:
    make_tree(tmp_path)
    before = digest_source(tmp_path, use_cache=False).digest
    (tmp_path / "opendeploy.yaml").write_text("version: 1\n# a comment\n")
    assert digest_source(tmp_path, use_cache=False).digest == before
    (tmp_path / "app.py").write_text("print('changed')\n")
    assert digest_source(tmp_path, use_cache=False).digest != before
