"""The walker at its edges: folders it cannot list, entries it cannot stat, bad names, special
files and symlinks, each with the warning a user reads; and the listing cache on the same
edges (a warm walk must say exactly what a fresh one says, and list no folder it need not)."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from opendeploy_plan.source import SelectionWarning, select_files
from tests.source.conftest import selected, write_tree
from tests.source.test_listing_cache import (
    TREE,
    _fresh,
    _listing_file,
    _next_tick,
    _settled,
    _tamper,
    _warm,
)

MakeTree = Callable[..., Path]
SPECIAL = "not a regular file (fifo, socket or device); skipped"


def _paths(selection: Any) -> list[str]:
    return [f.path for f in selection.files]


@pytest.fixture
def deny_listing(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Folders os.scandir refuses, as it would for a user without read access (the tests run
    as root, which may list anything)."""
    denied: set[str] = set()
    real = os.scandir

    def scandir(path: str) -> Iterator[os.DirEntry[str]]:
        if str(path) in denied:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    return denied


def test_a_folder_that_cannot_be_listed_is_warned_about(
    make_tree: MakeTree, deny_listing: set[str]
) -> None:
    root = make_tree({"app/main.py": "", "app/lib/x.py": "", "web/index.html": "", "top.txt": ""})
    deny_listing.add(str(root / "app"))
    selection = select_files(root)
    assert _paths(selection) == ["top.txt", "web/index.html"]
    assert selection.warnings == (
        SelectionWarning("app/", "unreadable", "cannot list folder: Permission denied"),
    )
    deny_listing.add(str(root))
    assert select_files(root).warnings == (
        SelectionWarning(".", "unreadable", "cannot list folder: Permission denied"),
    )


def test_a_recorded_folder_this_process_may_not_read_is_listed_afresh(
    make_tree: MakeTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user's walk (or changed group rights) must not replay a folder's record: the
    fresh listing decides (and warns when it fails)."""
    root = _settled(make_tree(TREE))
    _warm(root)
    real = os.access
    app = str(root / "app")

    def access(path: str, mode: int, **kwargs: Any) -> bool:
        if str(path) == app and mode & os.R_OK:
            return False
        return real(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
    selection, listed = _warm(root)
    assert selection == _fresh(root)
    assert listed == 1  # app/ alone: its subfolders are still replayed


def test_a_record_naming_a_file_as_a_link_is_not_used(make_tree: MakeTree) -> None:
    root = _settled(make_tree(TREE))
    _warm(root)
    _tamper(root, lambda record: record[6].append("README.md"))
    selection, listed = _warm(root)
    assert selection == _fresh(root)
    assert listed == 1


def _too_deep(root: Path) -> str:
    """Nest folders until a path passes PATH_MAX (4096 bytes on Linux): the kernel refuses to
    stat it by name. Returns the root-relative path of the file at the bottom."""
    name = "d" * 200
    parts: list[str] = []
    fd = os.open(root, os.O_RDONLY)
    try:
        while len(str(root)) + len(parts) * (len(name) + 1) < 4300:
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
            parts.append(name)
        os.close(os.open("f.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
    finally:
        os.close(fd)
    return "/".join([*parts, "f.txt"])


def test_an_entry_that_cannot_be_stat_ed_is_warned_about_on_every_walk(
    make_tree: MakeTree,
) -> None:
    root = make_tree({"ok.txt": ""})
    deep = _too_deep(root)
    try:
        _settled(root)
        for _ in range(2):
            selection, listed = _warm(root)
            assert selection == _fresh(root)
            assert _paths(selection) == ["ok.txt"]
            [warning] = selection.warnings
            assert (warning.code, warning.message) == (
                "unreadable",
                "cannot stat: File name too long",
            )
            assert deep.startswith(warning.path + "/")
        assert listed == 1  # the folder holding it is never recorded: listed (and warned) again
    finally:
        shutil.rmtree(root / deep.split("/")[0])


def test_a_name_that_is_not_utf8_is_warned_about_on_every_walk(make_tree: MakeTree) -> None:
    root = make_tree(TREE)
    try:
        with open(os.path.join(os.fsencode(root), b"app", b"bad\xff.txt"), "wb"):
            pass
    except OSError:
        pytest.skip("file system refuses non-UTF-8 names")
    _settled(root)
    for _ in range(2):
        selection, listed = _warm(root)
        assert selection == _fresh(root)
        assert selection.warnings == (
            SelectionWarning(
                "app/bad\udcff.txt", "bad-name", "file name is not valid UTF-8; skipped"
            ),
        )
    assert listed == 1


def test_a_warm_walk_replays_folders_with_ignore_and_special_files(make_tree: MakeTree) -> None:
    root = make_tree(
        {
            **TREE,
            ".gitignore": "*.log\n",
            "app/.odplanignore": "lib/deep/\n",
            "web/.gitignore": "*.css\n",
            "web/x.log": "",
        }
    )
    os.mkfifo(root / "web" / "pipe")
    _settled(root)
    cold, _ = _warm(root)
    warm, listed = _warm(root)
    assert listed == 0
    assert warm == cold == _fresh(root)
    assert _paths(warm) == [
        ".gitignore",
        "README.md",
        "app/.odplanignore",
        "app/lib/util.py",
        "app/main.py",
        "web/.gitignore",
        "web/index.html",
    ]
    assert warm.warnings == (SelectionWarning("web/pipe", "special-file", SPECIAL),)


def test_an_ignore_file_moved_between_enclosing_folders_is_seen(tmp_path: Path) -> None:
    """The same text means other paths in another folder: `/app/a.txt` in `mid/` names the
    source folder's a.txt; in the work tree's top it names nothing here."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    root = write_tree(repo / "mid" / "app", {"a.txt": "", "b.txt": ""})
    (repo / "mid" / ".gitignore").write_text("/app/a.txt\n")
    _settled(root)
    assert _paths(_warm(root)[0]) == ["b.txt"]
    (repo / "mid" / ".gitignore").unlink()
    (repo / ".gitignore").write_text("/app/a.txt\n")
    warm, _ = _warm(root)
    assert warm == _fresh(root)
    assert _paths(warm) == ["a.txt", "b.txt"]


def test_an_edit_to_the_outer_of_two_enclosing_ignore_files_is_seen(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write_tree(repo, {".gitignore": "*.md\n", "mid/.gitignore": "*.tmp\n"})
    root = write_tree(repo / "mid" / "app", {"README.md": "", "x.tmp": "", "a.py": ""})
    _settled(root)
    assert _paths(_warm(root)[0]) == ["a.py"]
    (repo / ".gitignore").write_text("*.py\n")
    warm, _ = _warm(root)
    assert warm == _fresh(root)
    assert _paths(warm) == ["README.md"]


def test_an_ignore_file_moved_into_a_subfolder_is_seen_below_it(make_tree: MakeTree) -> None:
    """`/deep/a.txt` at the root names nothing; in `sub/` it names sub/deep/a.txt. The
    folder below (`sub/deep/`) is unchanged, so only the rules' fingerprint can tell."""
    root = _settled(
        make_tree({".gitignore": "/deep/a.txt\n", "sub/deep/a.txt": "", "sub/deep/b.txt": ""})
    )
    assert _paths(_warm(root)[0]) == [".gitignore", "sub/deep/a.txt", "sub/deep/b.txt"]
    _next_tick(root)
    (root / ".gitignore").unlink()
    (root / "sub" / ".gitignore").write_text("/deep/a.txt\n")
    warm, _ = _warm(root)
    assert warm == _fresh(root)
    assert _paths(warm) == ["sub/.gitignore", "sub/deep/b.txt"]


def test_env_files_at_any_depth_are_never_named_in_the_cache(make_tree: MakeTree) -> None:
    root = _settled(make_tree({**TREE, "prod.vars": "T=1", "app/lib/stage.vars": "T=2"}))
    for _ in range(2):
        selection = select_files(
            root,
            secret_files=["prod.vars", "app/lib/stage.vars"],
            listings="reuse",
            racy_window_ns=0,
        )
        assert selection.excluded_secrets == ("app/lib/stage.vars", "prod.vars")
    text = _listing_file(root).read_text()
    assert "prod.vars" not in text and "stage.vars" not in text
    assert '"app/"' in text and '"web/"' in text  # their neighbours are still recorded


def test_an_ignore_file_that_is_not_utf8_still_applies(make_tree: MakeTree) -> None:
    root = make_tree(
        {".gitignore": b"# caf\xe9 (latin-1)\n*.log\n\xff*\n", "a.log": "", "b.txt": ""}
    )
    assert selected(root) == [".gitignore", "b.txt"]


# Symlinks


def test_link_warnings_say_what_was_skipped(tmp_path: Path) -> None:
    write_tree(tmp_path, {"outside/x": "x", "proj-x/y": "y"})
    root = write_tree(tmp_path / "proj", {"a/b.txt": "", "node_modules/m.js": ""})
    (root / "leak").symlink_to(tmp_path / "outside" / "x")
    (root / "sibling").symlink_to(tmp_path / "proj-x" / "y")  # `proj-x` is not inside `proj`
    (root / "gone").symlink_to("nowhere")
    (root / "a" / "loop").symlink_to("..", target_is_directory=True)
    (root / "mod.js").symlink_to("node_modules/m.js")
    selection = select_files(root)
    assert _paths(selection) == ["a/b.txt"]
    assert selection.warnings == (
        SelectionWarning(
            "a/loop", "symlink-loop", "symlink loops back into its own parent; skipped"
        ),
        SelectionWarning("gone", "symlink-dangling", "symlink target does not exist; skipped"),
        SelectionWarning(
            "leak", "symlink-outside", "symlink points outside the source folder; skipped"
        ),
        SelectionWarning(
            "mod.js",
            "symlink-excluded",
            "symlink target node_modules/m.js is not uploaded; link skipped",
        ),
        SelectionWarning(
            "sibling", "symlink-outside", "symlink points outside the source folder; skipped"
        ),
    )


def test_links_to_an_enclosing_folder_loop_and_others_are_followed(make_tree: MakeTree) -> None:
    root = make_tree({"a/b/c/f.txt": "", "a/g.txt": "", "x/y.txt": ""})
    (root / "a" / "b" / "up").symlink_to("..")  # a/: encloses the link
    (root / "a" / "b" / "c" / "up2").symlink_to("../..")  # a/ again, two levels up
    (root / "a" / "b" / "c" / "self").symlink_to(".")  # its own folder
    (root / "a" / "bb").symlink_to("b")  # a/b: a sibling whose name starts the same
    (root / "x" / "sib").symlink_to("../a/b/c")
    (root / "top").symlink_to("a/b")
    selection = select_files(root)
    assert _paths(selection) == [
        "a/b/c/f.txt",
        "a/bb/c/f.txt",
        "a/g.txt",
        "top/c/f.txt",
        "x/sib/f.txt",
        "x/y.txt",
    ]
    assert [(w.path, w.code) for w in selection.warnings] == [
        ("a/b/c/self", "symlink-loop"),
        ("a/b/c/up2", "symlink-loop"),
        ("a/b/up", "symlink-loop"),
    ]


def test_every_link_is_resolved_after_a_linked_folder(make_tree: MakeTree) -> None:
    root = make_tree({"pkg/m.py": "", "real.txt": "r", "lnk0.txt": ""})
    (root / "a_dir").symlink_to("pkg")
    (root / "b_file").symlink_to("real.txt")
    (root / "c_gone").symlink_to("nope")
    (root / "lnk").symlink_to("pkg")
    selection = select_files(root)
    # Sorted by path: `lnk/m.py` comes before `lnk0.txt` ('/' < '0').
    assert _paths(selection) == [
        "a_dir/m.py",
        "b_file",
        "lnk/m.py",
        "lnk0.txt",
        "pkg/m.py",
        "real.txt",
    ]
    assert [(w.path, w.code) for w in selection.warnings] == [("c_gone", "symlink-dangling")]
    by_path = {f.path: f for f in selection.files}
    # A link is stored as its target: same content, mode and stat key (the digest cache's).
    assert by_path["b_file"][1:] == by_path["real.txt"][1:]
    assert by_path["lnk/m.py"][1:] == by_path["pkg/m.py"][1:]


def test_links_inside_a_linked_folder_are_not_followed_twice(make_tree: MakeTree) -> None:
    """Whatever order the links are resolved in: `a` and `z` both point at dir/, which holds a
    link of its own; neither copy gets it (links are resolved against the walk's own files)."""
    root = make_tree({"dir/f.txt": "", "f2.txt": ""})
    (root / "dir" / "inner").symlink_to("../f2.txt")
    (root / "a").symlink_to("dir")
    (root / "z").symlink_to("dir")
    assert selected(root) == ["a/f.txt", "dir/f.txt", "dir/inner", "f2.txt", "z/f.txt"]


def test_a_folders_only_pattern_does_not_match_a_link(make_tree: MakeTree) -> None:
    """As for git, a symlink is not a folder: `data/` (and the built-in `dist/`) leave a link
    of that name alone, which then stores its target folder's files."""
    root = make_tree({".gitignore": "data/\n", "real_data/x.csv": "", "out/y.js": ""})
    (root / "data").symlink_to("real_data")
    (root / "dist").symlink_to("out")
    assert selected(root) == [
        ".gitignore",
        "data/x.csv",
        "dist/y.js",
        "out/y.js",
        "real_data/x.csv",
    ]


def test_a_nested_work_tree_does_not_take_the_outer_ones_rules(tmp_path: Path) -> None:
    """A source folder that is its own git work tree (a nested repository or a submodule, whose
    `.git` is a file) is the top: `.gitignore` files above it belong to another repository."""
    outer = write_tree(tmp_path / "outer", {".gitignore": "*.md\n", "x.md": ""})
    (outer / ".git").mkdir()
    inner = write_tree(outer / "inner", {"README.md": "", "a.py": ""})
    (inner / ".git").mkdir()
    assert selected(inner) == ["README.md", "a.py"]
    shutil.rmtree(inner / ".git")
    (inner / ".git").write_text("gitdir: ../.git/modules/inner\n")
    assert selected(inner) == ["README.md", "a.py"]
    (inner / ".git").unlink()
    assert selected(inner) == ["a.py"]  # now inside the outer work tree


def test_a_link_to_its_own_folder_is_a_loop_when_names_have_spaces(make_tree: MakeTree) -> None:
    root = make_tree({"a/my dir/f.txt": ""})
    (root / "a" / "my dir" / "self").symlink_to(".")
    (root / "a" / "my dir" / "up").symlink_to("..")
    selection = select_files(root)
    assert _paths(selection) == ["a/my dir/f.txt"]
    assert [(w.path, w.code) for w in selection.warnings] == [
        ("a/my dir/self", "symlink-loop"),
        ("a/my dir/up", "symlink-loop"),
    ]
