"""What a `Selection` says about itself and the checks on service folders: `why` a path stayed
home, `holding_back`, `subtree`, `changes_since`, subpath normalization, empty service folders,
and the reasons `select_files` records."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opendeploy_plan.source import (
    Selection,
    SelectionWarning,
    SourceError,
    SourceOutsideRoot,
    normalize_subpath,
    select_files,
    service_subpaths,
)
from opendeploy_plan.source._select import check_service_subtrees
from tests.source.conftest import write_tree


def _tree(tmp_path: Path) -> Path:
    root = write_tree(
        tmp_path / "proj",
        {
            "README.md": "# hi\n",
            "api/main.py": "print(1)\n",
            "api/lib/util.py": "x = 1\n",
            "api/.env": "TOKEN=x\n",
            "api/prod.vars": "TOKEN=y\n",
            "web/index.html": "<p>hi</p>\n",
            "web/.env": "TOKEN=z\n",
            "apiary/notes.txt": "bees\n",
        },
    )
    os.mkfifo(root / "api" / "pipe")
    os.mkfifo(root / "web" / "pipe")
    return root


def test_why_names_the_pattern_or_the_recorded_reason() -> None:
    selection = Selection(
        root=Path("/p"),
        files=(),
        excluded_secrets=("a/.env", "b/plain.txt", "c/vars"),
        reasons={"c/vars": "read by the manifest for secrets (env_files)"},
    )
    assert selection.why("a/.env") == "matches .env"
    assert selection.why("b/plain.txt") == "a secret"  # no pattern and no recorded reason
    assert selection.why("c/vars") == "read by the manifest for secrets (env_files)"


def test_reasons_recorded_for_env_files_and_links_to_secrets(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"app.py": "", "conf/prod.vars": "T=1", ".env": "T=2"})
    (root / "settings").symlink_to(".env")
    selection = select_files(root, secret_files=["conf/prod.vars"])
    assert [f.path for f in selection.files] == ["app.py"]
    assert {path: selection.why(path) for path in selection.excluded_secrets} == {
        ".env": "matches .env",
        "conf/prod.vars": "read by the manifest for secrets (env_files)",
        "settings": "symlink to a secret",
    }


def test_env_files_outside_the_root_are_skipped_not_the_rest(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", {"app.py": "", "a.vars": "T=1", "b.vars": "T=2"})
    selection = select_files(root, secret_files=["../outside.vars", "a.vars", "/abs", "b.vars"])
    assert [f.path for f in selection.files] == ["app.py"]
    assert selection.excluded_secrets == ("a.vars", "b.vars")


def test_holding_back_keeps_root_and_warnings(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    selection = select_files(root)
    held = selection.holding_back({"api/main.py": "holds a private key"})
    assert held.root == root
    assert held.warnings == selection.warnings != ()
    assert "api/main.py" not in [f.path for f in held.files]
    assert held.why("api/main.py") == "holds a private key"
    assert held.excluded_secrets == ("api/.env", "api/main.py", "web/.env")


def test_subtree_is_the_service_folder_with_paths_relative_to_it(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    selection = select_files(root, secret_files=["api/prod.vars"])
    part = selection.subtree("./api/")
    assert part.root == root / "api"
    assert [f.path for f in part.files] == ["lib/util.py", "main.py"]  # not apiary/
    whole = {f.path: f for f in selection.files}
    assert [f[1:] for f in part.files] == [whole["api/lib/util.py"][1:], whole["api/main.py"][1:]]
    assert part.total_size == len("x = 1\n") + len("print(1)\n")
    # What stayed home, and why, keeps its path from the project root (as printed by `package`).
    assert part.warnings == (SelectionWarning("api/pipe", "special-file", _SPECIAL),)
    assert part.excluded_secrets == ("api/.env", "api/prod.vars")
    assert part.reasons == {"api/prod.vars": "read by the manifest for secrets (env_files)"}
    assert selection.subtree(".") is selection
    assert selection.subtree("") is selection


_SPECIAL = "not a regular file (fifo, socket or device); skipped"


def test_changes_since_ranks_size_or_mode_changes_before_touches(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"a.txt": "a", "m.sh": "echo", "z.txt": "z"})
    before = select_files(root)
    os.utime(root / "a.txt", ns=(1, 1))  # touched only: sorts first by name, named last
    (root / "z.txt").write_text("z, longer")  # size
    (root / "m.sh").chmod(0o755)  # mode only
    assert select_files(root).changes_since(before) == [
        "m.sh (changed)",
        "z.txt (changed)",
        "a.txt (changed)",
    ]


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("services\\api", "services/api"),
        ("./services/api/", "services/api"),
        ("a/../b", "b"),
        ("a/b/../../c/./d", "c/d"),
        ("a//b", "a/b"),
        (".", ""),
        ("", ""),
        ("a/..", ""),
    ],
)
def test_normalize_subpath(given: str, normal: str) -> None:
    assert normalize_subpath(given) == normal


def test_normalize_subpath_refuses_absolute_and_escaping_paths() -> None:
    with pytest.raises(SourceOutsideRoot) as absolute:
        normalize_subpath("/srv/app")
    assert str(absolute.value) == "source path '/srv/app' must be relative to the manifest folder"
    with pytest.raises(SourceOutsideRoot) as backslash:
        normalize_subpath("\\srv")
    assert "must be relative" in str(backslash.value)
    with pytest.raises(SourceOutsideRoot) as leaving:
        normalize_subpath("a/../../b")
    assert str(leaving.value) == (
        "source path 'a/../../b' leaves the manifest folder; the project archive is that "
        "folder, so a service's source must be inside it"
    )


def test_service_subpaths_of_the_root_and_of_folders(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"api/main.py": "", "main.py": ""})
    assert service_subpaths(root, {"all": ".", "root": "", "api": "api/"}) == {
        "all": "",
        "root": "",
        "api": "api",
    }
    with pytest.raises(SourceError) as missing:
        service_subpaths(root, {"web": "web"})
    assert str(missing.value) == "service 'web': source folder 'web' does not exist"


def test_a_service_folder_with_nothing_to_upload_is_refused(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"main.py": "", "web/dist/index.html": "", "api/app.py": ""})
    selection = select_files(root)
    check_service_subtrees(selection, {"api": "api", "all": ""})  # files under both
    with pytest.raises(SourceError) as empty:
        check_service_subtrees(selection, {"api": "api", "web": "web/dist"})
    assert str(empty.value) == (
        "service 'web': no file under 'web/dist' would be uploaded (the folder is empty or "
        "excluded); if it is a build output, add `!web/dist/` to .odplanignore"
    )
    nothing = Selection(root=root, files=())
    with pytest.raises(SourceError) as at_root:
        check_service_subtrees(nothing, {"all": ""})
    assert "no file under '.' would be uploaded" in str(at_root.value)
    assert "add `!./` to .odplanignore" in str(at_root.value)


def test_a_service_folder_is_matched_whole_not_by_name_prefix(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"apiary/notes.txt": "", "api/.env": "T=1"})
    with pytest.raises(SourceError, match="service 'api': no file under 'api'"):
        check_service_subtrees(select_files(root), {"api": "api"})


def test_select_files_refuses_what_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(SourceError) as error:
        select_files(tmp_path / "file")
    assert str(error.value) == f"{tmp_path / 'file'}: not a folder"
