"""Helpers for the source room's tests: build small trees from a {path: content} mapping."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

Tree = Mapping[str, str | bytes]


def write_tree(root: Path, files: Tree) -> Path:
    """Create each file (parents too); bytes are written as is, str as UTF-8."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        path.write_bytes(data)
    return root


@pytest.fixture
def make_tree(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1000))

    def make(files: Tree, name: str | None = None) -> Path:
        root = tmp_path / (name or f"tree{next(counter)}")
        root.mkdir(parents=True, exist_ok=True)
        return write_tree(root, files)

    return make


def selected(root: Path) -> list[str]:
    from opendeploy_plan.source import select_files

    return [f.path for f in select_files(root).files]


def set_mtime(path: Path, seconds: int) -> None:
    os.utime(path, (seconds, seconds), follow_symlinks=False)
