"""Env files and written text (mutation audit, round 6): empty values never hide real ones, a
symlink cannot pull a file from outside the manifest's folder, the secret lookup order, and
unquoted YAML 1.1 booleans and numbers in env values kept exactly as the author wrote them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opendeploy_plan.manifest import LoadResult, load_env_files, load_manifest_bytes
from opendeploy_plan.manifest.envfiles import EnvFileError, lookup_secret

FILE = "opendeploy.yaml"


def _files(root: Path, **files: str) -> None:
    for name, text in files.items():
        path = root / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


# --- env files ------------------------------------------------------------------------------------


def test_an_empty_value_never_hides_a_value_from_another_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=from-env\nB=\nC=\n")
    (tmp_path / ".env.local").write_text("A=\nB=from-local\n")
    values = load_env_files(tmp_path, None, "production")
    assert values == {"A": "from-env", "B": "from-local", "C": ""}


def test_a_later_non_empty_value_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=one\n")
    (tmp_path / ".env.staging").write_text("A=two\n")
    (tmp_path / ".env.staging.local").write_text("A=three\n")
    assert load_env_files(tmp_path, None, "staging") == {"A": "three"}
    assert load_env_files(tmp_path, None, "production") == {"A": "one"}


def test_a_key_without_a_value_is_not_a_variable(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BARE\nSET=x\n")
    assert load_env_files(tmp_path, None, "production") == {"SET": "x"}


def test_a_dollar_is_kept_as_written(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HOME_DIR=/srv\nA=${HOME_DIR}/x$y\n")
    assert load_env_files(tmp_path, None, "production")["A"] == "${HOME_DIR}/x$y"


def test_a_symlink_to_a_file_outside_the_folder_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside.env"
    outside.write_text("LEAK=outside-value\n")
    project = tmp_path / "project"
    project.mkdir()
    os.symlink(outside, project / ".env")
    (project / "inside.env").write_text("OK=1\n")
    os.symlink(project / "inside.env", project / ".env.local")
    assert load_env_files(project, None, "production") == {"OK": "1"}


def test_a_folder_named_like_an_env_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / ".env").mkdir()
    (tmp_path / ".env.local").write_text("A=1\n")
    assert load_env_files(tmp_path, None, "production") == {"A": "1"}


@pytest.mark.parametrize("name", ["../up.env", "/etc/hostname", "a\\b.env", "~/x.env"])
def test_a_listed_path_leaving_the_folder_is_ignored(tmp_path: Path, name: str) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (tmp_path / "up.env").write_text("UP=1\n")
    assert load_env_files(project, [name], "production") == {}


def test_a_non_utf8_file_names_itself_only(tmp_path: Path) -> None:
    (tmp_path / "bad.env").write_bytes(b"SECRET=\xff\xfe-value\n")
    with pytest.raises(EnvFileError) as caught:
        load_env_files(tmp_path, ["bad.env"], "production")
    assert str(caught.value) == "bad.env is not UTF-8 text"


@pytest.mark.parametrize(
    ("process", "files", "expected"),
    [
        ({"S": "proc"}, {"S": "file"}, "proc"),
        ({"S": ""}, {"S": "file"}, "file"),
        ({}, {"S": "file"}, "file"),
        ({"S": ""}, {"S": ""}, ""),
        ({"S": ""}, {}, ""),
        ({}, {"S": ""}, ""),
        ({}, {}, None),
        ({"OTHER": "x"}, {"OTHER": "y"}, None),
    ],
)
def test_the_secret_lookup_order(
    process: dict[str, str], files: dict[str, str], expected: str | None
) -> None:
    assert lookup_secret("S", process, files) == expected


# --- text as written ------------------------------------------------------------------------------


def _load(services: str) -> LoadResult:
    text = f"version: 1\nproject:\n  name: shop\nservices:\n{services}"
    return load_manifest_bytes(text.encode(), FILE, Path("/nowhere"), check_sources=False)


@pytest.mark.parametrize(
    "written",
    ["Yes", "NO", "on", "OFF", "true", "False", "0o17", "0x1F", "1_000", "1e3", ".inf", "007"],
)
def test_an_unquoted_env_value_is_the_text_written(written: str) -> None:
    result = _load(f"  web:\n    type: web\n    env:\n      FLAG: {written}\n")
    assert result.manifest is not None, result.diagnostics
    assert result.manifest.services["web"].env["FLAG"] == written


def test_a_quoted_env_value_and_an_env_key_named_like_a_boolean_are_text() -> None:
    result = _load("  web:\n    type: web\n    env:\n      ON: 'Yes'\n      n: x\n")
    assert result.manifest is not None, result.diagnostics
    assert result.manifest.services["web"].env == {"ON": "Yes", "n": "x"}


@pytest.mark.parametrize(
    ("written", "described"),
    [("Yes", "boolean true"), ("OFF", "boolean false"), ("1.5", "number 1.5"), ("[1]", "a list")],
)
def test_a_wrong_type_is_described_as_yaml_read_it(written: str, described: str) -> None:
    result = _load(f"  web:\n    type: web\n    port: {written}\n")
    assert result.manifest is None
    [diagnostic] = [d for d in result.diagnostics if d.path == "services.web.port"]
    assert diagnostic.summary.endswith(f"(got {described})")
    assert (diagnostic.line, diagnostic.col) == (7, 11)
