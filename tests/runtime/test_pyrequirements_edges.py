"""What gets installed for a Python app without requirements.txt: Poetry and Pipfile tables
translated line by line (markers, extras, git refs, URLs, lists, `python` skipped), an
unreadable file named, and caret/tilde/`~=` constraints bounded as Poetry means them."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.runtime.pyrequirements import (
    RequirementsError,
    declared_requirements,
    poetry_constraint,
)


def test_nothing_declared_is_nothing_to_install(tmp_path: Path) -> None:
    assert declared_requirements(tmp_path) == ([], "", [])
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 99\n")
    assert declared_requirements(tmp_path) == ([], "", [])


def test_a_project_table_without_dependencies_falls_through_to_poetry(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "a"\n[tool.poetry.dependencies]\nPython = "^3.11"\nflask = "^3"\n'
    )
    assert declared_requirements(tmp_path) == (
        ["flask>=3,<4"],
        "pyproject.toml [tool.poetry.dependencies]",
        [],
    )


def test_an_empty_project_dependency_list_is_taken_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\ndependencies = []\n[tool.poetry.dependencies]\nflask = "^3"\n'
    )
    assert declared_requirements(tmp_path) == ([], "pyproject.toml [project]", [])


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "Pipfile").write_text("[packages\n")
    with pytest.raises(RequirementsError, match=r"^Pipfile: "):
        declared_requirements(tmp_path)
    (tmp_path / "pyproject.toml").write_bytes(b"\xff\xfe[project]")
    with pytest.raises(RequirementsError, match=r"^pyproject\.toml: "):
        declared_requirements(tmp_path)


def test_poetry_tables_keep_markers_urls_branches_and_first_of_several_specs(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.poetry.dependencies]\n"
        'typing-extensions = { version = "^4.0", markers = "python_version < \'3.11\'" }\n'
        'wheel = { url = "https://example.org/w.whl", extras = ["a", "b"] }\n'
        'lib = { git = "https://example.org/lib.git", branch = "main" }\n'
        'pinned = { git = "https://example.org/p.git", rev = "abc", branch = "main" }\n'
        'bare = { git = "https://example.org/b.git" }\n'
        'multi = [{ version = "^1.0", python = "<3.10" }, { version = "^2.0" }]\n'
        "empty = []\n"
        'anything = "*"\n'
        'extra = { version = "^1", optional = true }\n'
        'starred = "2.1.*"\n'
        'nover = { extras = ["x"] }\n'
    )
    found, _, notes = declared_requirements(tmp_path)
    assert found == [
        "typing-extensions>=4.0,<5 ; python_version < '3.11'",
        "wheel[a,b] @ https://example.org/w.whl",
        "lib @ git+https://example.org/lib.git@main",
        "pinned @ git+https://example.org/p.git@abc",
        "bare @ git+https://example.org/b.git",
        "multi>=1.0,<2",
        "empty",
        "anything",
        "starred==2.1.*",
        "nover[x]",
    ]
    assert notes == []


def test_pipfile_specs_are_pip_syntax_already(tmp_path: Path) -> None:
    (tmp_path / "Pipfile").write_text(
        "[packages]\n"
        'a = " >=1.0 "\n'
        'b = ""\n'
        'c = { version = "==2.0", markers = "os_name == \'posix\'" }\n'
        'python = "3.11"\n'
    )
    found, origin, _ = declared_requirements(tmp_path)
    assert origin == "Pipfile [packages]"
    assert found == ["a>=1.0", "b", "c==2.0 ; os_name == 'posix'"]


@pytest.mark.parametrize(
    ("poetry", "pep440"),
    [
        ("^1.2.3", ">=1.2.3,<2"),
        ("^0", ">=0,<1"),
        ("^0.0", ">=0.0,<0.1"),
        ("~1.2", ">=1.2,<1.3"),
        ("~0.0.5", ">=0.0.5,<0.1"),
        ("~=1.4", "~=1.4"),
        ("^1.0b1", "^1.0b1"),
        ("==1.0", "==1.0"),
        ("!=1.5", "!=1.5"),
        (">= 1.0, < 2.0", ">=1.0,<2.0"),
        ("  ", ""),
        ("1.2.3 || 2", "==1.2.3"),
        (">=1 !=1.5", ">=1,!=1.5"),
    ],
)
def test_more_poetry_constraints(poetry: str, pep440: str) -> None:
    assert poetry_constraint(poetry) == pep440
