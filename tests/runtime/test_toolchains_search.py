"""Which executable a tool name finds: PATH first, then the extra globs newest first, and only
what the run-as user may execute; the search PATH the found tools make."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from opendeploy_plan.runtime.supervisor import RunAs
from opendeploy_plan.runtime.toolchains import Toolchains, _has_pip, find_tool

from .conftest import reachable_tmp

NAME = "odplan-fake-tool"
STRANGER = RunAs("stranger", 54321, 54321)


@pytest.fixture
def tree() -> Iterator[Path]:
    folder = reachable_tmp("odplan-tools-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def tool(folder: Path, mode: int = 0o755) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NAME
    path.write_text("#!/bin/sh\n")
    path.chmod(mode)
    return path


def test_the_first_usable_folder_on_path_wins(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool(tree / "first", 0o644)  # not executable: skipped
    second = tool(tree / "second")
    third = tool(tree / "third")
    path = os.pathsep.join(["", str(tree / "none"), str(tree / "first"), str(tree / "second")])
    monkeypatch.setenv("PATH", path + os.pathsep + str(tree / "third"))
    assert find_tool(NAME, None) == str(second)
    second.unlink()
    assert find_tool(NAME, None) == str(third)
    third.unlink()
    assert find_tool(NAME, None) is None


def test_extra_globs_pick_the_newest_version_after_path(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tree / "empty"))
    tool(tree / "v13" / "bin")
    newest = tool(tree / "v15" / "bin")
    tool(tree / "v14" / "bin")
    pattern = str(tree / "v*" / "bin" / NAME)
    assert find_tool(NAME, None, str(tree / "nothing*"), pattern) == str(newest)
    newest.chmod(0o644)
    assert find_tool(NAME, None, pattern) == str(tree / "v14" / "bin" / NAME)
    on_path = tool(tree / "onpath")
    monkeypatch.setenv("PATH", str(tree / "onpath"))
    assert find_tool(NAME, None, pattern) == str(on_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to judge for another user")
def test_the_run_as_user_needs_the_execute_bit_for_others(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tree / "bin"))
    found = tool(tree / "bin", 0o754)  # root may run it, others may not
    assert find_tool(NAME, None) == str(found)
    assert find_tool(NAME, STRANGER) is None
    found.chmod(0o755)
    assert find_tool(NAME, STRANGER) == str(found)
    (tree / "bin").chmod(0o700)  # not reachable
    assert find_tool(NAME, STRANGER) is None
    (tree / "bin").chmod(0o755)
    # A link counts by its target's bits.
    target = tool(tree / "real", 0o750)
    found.unlink()
    found.symlink_to(target)
    assert find_tool(NAME, STRANGER) is None
    target.chmod(0o755)
    assert find_tool(NAME, STRANGER) == str(found)  # the link's path, not the target's


def test_the_search_path_lists_each_tool_folder_once_in_order() -> None:
    tools = Toolchains(
        python="/opt/py/bin/python3",
        uv="/opt/py/bin/uv",
        node="/opt/node/bin/node",
        npm="/opt/node/bin/npm",
        pnpm=None,
        yarn="/opt/yarn/bin/yarn",
    )
    assert tools.search_path() == (
        "/opt/py/bin:/opt/node/bin:/opt/yarn/bin:/usr/local/bin:/usr/bin:/bin"
    )
    none = Toolchains(python=None, uv=None, node=None, npm=None, pnpm=None, yarn=None)
    assert none.search_path() == "/usr/local/bin:/usr/bin:/bin"


def test_host_pip_needs_a_python_with_a_recent_pip(tree: Path) -> None:
    assert not _has_pip(str(tree / "no-python"))
    old = tree / "oldpip"
    (old / "pip").mkdir(parents=True)
    (old / "pip" / "__init__.py").write_text("__version__ = '21.3'\n")
    fake = tree / "python-old-pip"
    fake.write_text(f'#!/bin/sh\nPYTHONPATH={old} exec /usr/bin/python3 "$@"\n')
    fake.chmod(0o755)
    assert not _has_pip(str(fake))
    (old / "pip" / "__init__.py").write_text("__version__ = '22.0'\n")
    assert _has_pip(str(fake))
