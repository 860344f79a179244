"""A service's source folder must resolve inside the manifest folder, compared as paths and not
as text (second mutation audit, issue 19; source/_select.py): `/x/app-x` starts with `/x/app`
but is a sibling of it, so a `source:` symlinked there is outside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opendeploy_plan.source import SourceOutsideRoot, service_subpaths


def _app_with_sibling(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / "web").mkdir(parents=True)
    sibling = tmp_path / "app-x" / "api"
    sibling.mkdir(parents=True)
    (sibling / "main.py").write_text("print('not ours')\n")
    os.symlink(sibling, root / "api")
    os.symlink(tmp_path / "app-x", root / "linked")
    return root


@pytest.mark.parametrize("source", ["api", "linked", "linked/api"])
def test_a_source_linked_to_a_sibling_whose_name_extends_the_root_is_outside(
    tmp_path: Path, source: str
) -> None:
    root = _app_with_sibling(tmp_path)
    with pytest.raises(SourceOutsideRoot, match="resolves outside the manifest folder"):
        service_subpaths(root, {"api": source})


def test_folders_inside_the_root_and_the_root_itself_are_inside(tmp_path: Path) -> None:
    root = _app_with_sibling(tmp_path)
    os.symlink(root / "web", root / "web-link")
    assert service_subpaths(root, {"a": ".", "b": "web", "c": "web-link"}) == {
        "a": "",
        "b": "web",
        "c": "web-link",
    }
