"""File selection: what the archive may contain, decided path by path."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opendeploy_plan.source import SourceError, SourceOutsideRoot, select_files, service_subpaths
from opendeploy_plan.source._rules import any_secret_name, is_secret_name
from tests.source.conftest import selected, write_tree

MakeTree = Callable[..., Path]


def test_vcs_dependency_and_build_folders_are_not_entered_at_any_depth(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            "app.py": "",
            ".git/config": "[remote] url = https://user:token@example.com",
            ".hg/hgrc": "",
            ".opendeploy/source.zip": "",
            "node_modules/x/index.js": "",
            "web/node_modules/y/index.js": "",
            "dist/app.js": "",
            "build/out.o": "",
            "target/release/bin": "",
            ".venv/lib/site.py": "",
            "pkg/__pycache__/m.cpython-311.pyc": "",
            "pkg/m.pyc": "",
            "pkg/m.py": "",
        }
    )
    assert selected(root) == ["app.py", "pkg/m.py"]


@pytest.mark.parametrize(
    "name",
    [
        ".env",
        ".env.production",
        ".env.local",
        ".env.example",  # the skill's `.env.*` covers it too; kept home on purpose
        ".npmrc",
        ".pypirc",
        ".netrc",
        "server.pem",
        "tls.key",
        "id_rsa",
        "id_rsa.pub",
        "id_ed25519",
        "credentials.json",
        "service-account-prod.json",
        "kubeconfig",
        "dev.kubeconfig.yaml",
        "ID_RSA",  # case-insensitive: the same secret on a case-insensitive disk
        "Server.PEM",
    ],
)
def test_secret_files_are_excluded_wherever_they_are(make_tree: MakeTree, name: str) -> None:
    root = make_tree({name: "s", f"deep/er/{name}": "s", "main.py": ""})
    selection = select_files(root)
    assert [f.path for f in selection.files] == ["main.py"]
    assert selection.excluded_secrets == tuple(sorted([name, f"deep/er/{name}"]))


def test_a_folder_with_a_secret_name_is_kept_home_whole(make_tree: MakeTree) -> None:
    root = make_tree({".env/bin/python": "", "certs.key/a.txt": "", "ok.txt": ""})
    assert selected(root) == ["ok.txt"]


def test_gitignore_patterns_and_negations(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            ".gitignore": "*.log\n!keep.log\n/only-top.txt\ntmp/\n",
            "a.log": "",
            "keep.log": "",
            "only-top.txt": "",
            "sub/only-top.txt": "",
            "tmp/x": "",
            "sub/tmp/y": "",
            "sub/tmp.txt": "",
        }
    )
    assert selected(root) == [".gitignore", "keep.log", "sub/only-top.txt", "sub/tmp.txt"]


def test_nested_gitignore_applies_to_its_own_subtree_and_wins_there(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            ".gitignore": "*.txt\n",
            "a.txt": "",
            "web/.gitignore": "!*.txt\n/local.md\n",
            "web/b.txt": "",
            "web/local.md": "",
            "local.md": "",
        }
    )
    assert selected(root) == [".gitignore", "local.md", "web/.gitignore", "web/b.txt"]


def test_a_file_inside_an_ignored_folder_cannot_be_re_included(make_tree: MakeTree) -> None:
    root = make_tree({".gitignore": "logs/\n!logs/keep.txt\n", "logs/keep.txt": "", "x": ""})
    assert selected(root) == [".gitignore", "x"]


def test_whitelist_style_gitignore(make_tree: MakeTree) -> None:
    root = make_tree(
        {".gitignore": "*\n!*/\n!*.py\n", "a.py": "", "b.txt": "", "pkg/c.py": "", "pkg/d.md": ""}
    )
    assert selected(root) == ["a.py", "pkg/c.py"]


def test_gitignore_of_the_enclosing_git_work_tree_applies(tmp_path: Path) -> None:
    write_tree(tmp_path, {".gitignore": "*.log\ndeploy/local/\n", ".git/HEAD": ""})
    root = write_tree(tmp_path / "deploy", {"a.log": "", "app.py": "", "local/x": ""})
    assert selected(root) == ["app.py"]


def test_odplanignore_can_re_include_a_build_output(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            ".gitignore": "dist/\n",
            ".odplanignore": "!dist/\n",
            "dist/app.js": "",
            "build/x": "",
        }
    )
    assert selected(root) == [".gitignore", ".odplanignore", "dist/app.js"]


def test_odplanignore_never_re_includes_a_secret(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            ".odplanignore": "!.env\n!*.pem\n!id_rsa\n!.git/\n",
            ".env": "SECRET=1",
            "x.pem": "k",
            "id_rsa": "k",
            ".git/config": "",
        }
    )
    selection = select_files(root)
    assert [f.path for f in selection.files] == [".odplanignore"]
    assert selection.excluded_secrets == (".env", "id_rsa", "x.pem")


def test_odplanignore_can_exclude_more(make_tree: MakeTree) -> None:
    root = make_tree({".odplanignore": "docs/\n*.psd\n", "docs/a.md": "", "art.psd": "", "m": ""})
    assert selected(root) == [".odplanignore", "m"]


def test_a_gitignore_negation_does_not_re_include_a_built_in_skip(make_tree: MakeTree) -> None:
    root = make_tree({".gitignore": "!build/\n", "build/x": "", "main.go": ""})
    assert selected(root) == [".gitignore", "main.go"]


def test_symlinks_inside_are_stored_as_their_target_content(make_tree: MakeTree) -> None:
    root = make_tree({"lib/real.py": "code", "lib/pkg/m.py": "m"})
    (root / "alias.py").symlink_to("lib/real.py")
    (root / "pkglink").symlink_to("lib/pkg", target_is_directory=True)
    selection = select_files(root)
    by_path = {f.path: f for f in selection.files}
    assert sorted(by_path) == ["alias.py", "lib/pkg/m.py", "lib/real.py", "pkglink/m.py"]
    assert Path(by_path["alias.py"].source).read_text() == "code"
    assert selection.warnings == ()


def test_symlinks_leaving_the_folder_are_not_followed(tmp_path: Path) -> None:
    write_tree(tmp_path, {"outside/secret.txt": "x", "outside/dir/a": "a"})
    root = write_tree(tmp_path / "proj", {"main.py": ""})
    (root / "leak.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    (root / "leakdir").symlink_to(tmp_path / "outside" / "dir", target_is_directory=True)
    (root / "up").symlink_to("..", target_is_directory=True)
    selection = select_files(root)
    assert [f.path for f in selection.files] == ["main.py"]
    assert {(w.path, w.code) for w in selection.warnings} == {
        ("leak.txt", "symlink-outside"),
        ("leakdir", "symlink-outside"),
        ("up", "symlink-outside"),
    }


def test_symlink_to_a_secret_or_excluded_or_missing_target_is_skipped(
    make_tree: MakeTree,
) -> None:
    root = make_tree({".env": "S=1", "node_modules/m.js": "", "a/b.txt": ""})
    (root / "config").symlink_to(".env")
    (root / "mod.js").symlink_to("node_modules/m.js")
    (root / "gone").symlink_to("nowhere")
    (root / "a" / "loop").symlink_to("..", target_is_directory=True)
    selection = select_files(root)
    assert [f.path for f in selection.files] == ["a/b.txt"]
    assert selection.excluded_secrets == (".env", "config")
    assert {(w.path, w.code) for w in selection.warnings} == {
        ("a/loop", "symlink-loop"),
        ("gone", "symlink-dangling"),
        ("mod.js", "symlink-excluded"),
    }


def test_special_files_are_skipped_with_a_warning(make_tree: MakeTree) -> None:
    root = make_tree({"a.txt": ""})
    os.mkfifo(root / "pipe")
    selection = select_files(root)
    assert [f.path for f in selection.files] == ["a.txt"]
    assert [(w.path, w.code) for w in selection.warnings] == [("pipe", "special-file")]


def test_names_that_are_not_utf8_are_skipped_with_a_warning(make_tree: MakeTree) -> None:
    root = make_tree({"a.txt": ""})
    try:
        with open(os.path.join(os.fsencode(root), b"bad\xff.txt"), "wb"):
            pass
    except OSError:
        pytest.skip("file system refuses non-UTF-8 names")
    selection = select_files(root)
    assert [f.path for f in selection.files] == ["a.txt"]
    assert [w.code for w in selection.warnings] == ["bad-name"]


def test_service_sources_must_stay_inside_the_manifest_folder(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", {"api/main.py": ""})
    write_tree(tmp_path, {"other/x": ""})
    (root / "escape").symlink_to(tmp_path / "other", target_is_directory=True)
    assert service_subpaths(root, {"api": "./api/", "all": "."}) == {"api": "api", "all": ""}
    with pytest.raises(SourceOutsideRoot, match="leaves the manifest folder"):
        service_subpaths(root, {"x": "../other"})
    with pytest.raises(SourceOutsideRoot, match="outside the manifest folder"):
        service_subpaths(root, {"x": "escape"})
    with pytest.raises(SourceError, match="does not exist"):
        service_subpaths(root, {"x": "missing"})


# Differential check against git itself: random trees and .gitignore files, same answer.
_NAMES = ["a", "b", "c.py", "d.txt", "log", "x.log", "sub", "keep.txt", "deep"]
_PATTERNS = [
    "*.log", "!x.log", "sub/", "/a", "a/", "*", "!*/", "!*.py", "**/deep", "sub/**",
    "!sub/keep.txt", "d.*", "!d.txt", "b/c.py", "/sub/*", "!/sub/b", "**/b/", "c.py",
    "deep/**/d.txt", "[ab]", "?.log", "[!a-c].py", "\\!x", "#c", "a/**/c.py", "*.txt ",
]  # fmt: skip


def _random_tree(folder: Path, depth: int, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 4)):
        path = folder / rng.choice(_NAMES)
        if path.exists():
            continue
        if depth < 3 and rng.random() < 0.45:
            path.mkdir()
            _random_tree(path, depth + 1, rng)
        else:
            path.write_text("x")
    if rng.random() < 0.5:
        lines = rng.sample(_PATTERNS, rng.randint(1, 4))
        (folder / ".gitignore").write_text("\n".join(lines) + "\n")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize("seed", range(40))
def test_selection_matches_git_on_random_gitignore_trees(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    _random_tree(tmp_path, 0, rng)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    listed = subprocess.run(
        ["git", "-C", str(tmp_path), "ls-files", "--others", "--exclude-standard", "-z"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    git_says = sorted(p for p in listed.split("\0") if p)
    assert selected(tmp_path) == git_says


def test_changes_since_names_added_removed_and_touched_files(make_tree: MakeTree) -> None:
    root = make_tree({"a.txt": "a", "b.txt": "b", "c.txt": "c"})
    before = select_files(root)
    (root / "a.txt").write_text("a, longer")
    (root / "b.txt").unlink()
    (root / "d.txt").write_text("d")
    os.utime(root / "c.txt", ns=(1, 1))  # touched only: named last
    assert select_files(root).changes_since(before) == [
        "d.txt (added)",
        "b.txt (removed)",
        "a.txt (changed)",
        "c.txt (changed)",
    ]
    assert select_files(root).changes_since(select_files(root)) == []


_SECRET_SAMPLES = [".env", ".ENV.local", "a.PEM", "x.key", "id_rsa.pub", "Credentials.json"]
_SECRET_SAMPLES += ["service-account-1.json", "my-kubeconfig", "ſervice-account.json", "\u212a.pem"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(_SECRET_SAMPLES)),
        max_size=8,
    )
)
def test_many_names_at_once_agree_with_one_at_a_time(names: list[str]) -> None:
    assert any_secret_name(names) == any(is_secret_name(name) for name in names)
