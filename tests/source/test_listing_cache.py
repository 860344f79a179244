"""The folder listing cache: a warm walk lists no unchanged folder, and never answers differently
from a fresh walk, whatever changed in between (a differential test over random edits)."""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from opendeploy_plan.source import (
    Selection,
    build_archive,
    digest_source,
    select_files,
)
from opendeploy_plan.source._cache import CACHE_FOLDER, prepare_folder
from opendeploy_plan.source._listing import LISTING_FILE
from tests.source.conftest import write_tree

MakeTree = Callable[..., Path]
TREE = {
    "README.md": "# hi\n",
    "app/main.py": "print(1)\n",
    "app/lib/util.py": "x = 1\n",
    "app/lib/deep/data.json": "{}\n",
    "web/index.html": "<p>hi</p>\n",
    "web/assets/site.css": "p {}\n",
}
FOLDERS = 6  # the root, app, app/lib, app/lib/deep, web, web/assets


@contextmanager
def _counting_listings() -> Iterator[list[str]]:
    """Record every folder listed (os.scandir) while the block runs."""
    listed: list[str] = []
    real = os.scandir

    def spy(path: str) -> os.scandir[str]:  # type: ignore[name-defined]
        listed.append(str(path))
        return real(path)

    os.scandir = spy  # type: ignore[assignment]
    try:
        yield listed
    finally:
        os.scandir = real


def _settled(root: Path) -> Path:
    """Make odplan's cache folder, then wait one timestamp tick: a folder changed in the scan's
    own tick is never recorded (racy window 0 still needs a strictly older mtime), and the first
    scan's making of the cache folder changes the root. Without this, tests that expect the root
    to be recorded after one walk were flaky on a loaded machine."""
    prepare_folder(root / CACHE_FOLDER)
    _next_tick(root)
    return root


def _fresh(root: Path) -> Selection:
    return select_files(root)


def _warm(root: Path) -> tuple[Selection, int]:
    """A cached walk (racy window 0, so folders written a moment ago may be recorded) and how
    many folders it had to list."""
    with _counting_listings() as listed:
        selection = select_files(root, listings="reuse", racy_window_ns=0)
    return selection, len(listed)


def _next_tick(root: Path) -> None:
    """Wait until the file system's timestamp clock has moved past every change made so far,
    so the next change moves a folder's mtime (in real use the 2 s racy window stands for
    this). A probe file next to the tree is rewritten until its mtime moves."""
    probe = root.parent / ".tick"
    probe.write_text("0")
    first = probe.stat().st_mtime_ns
    deadline = time.monotonic() + 2
    while probe.stat().st_mtime_ns == first and time.monotonic() < deadline:
        time.sleep(0.001)
        probe.write_text("1")


def _listing_file(root: Path) -> Path:
    return root / CACHE_FOLDER / LISTING_FILE


def test_a_warm_walk_lists_no_unchanged_folder(make_tree: MakeTree) -> None:
    root = _settled(make_tree(TREE))
    cold, cold_listed = _warm(root)
    warm, warm_listed = _warm(root)
    assert (cold_listed, warm_listed) == (FOLDERS, 0)
    assert warm == cold == _fresh(root)


def test_only_changed_folders_are_listed_again(make_tree: MakeTree) -> None:
    root = _settled(make_tree(TREE))
    _warm(root)
    _next_tick(root)
    (root / "app" / "lib" / "new.py").write_text("y = 2\n")
    (root / "web" / "index.html").write_text("<p>changed content, same folder</p>\n")
    warm, listed = _warm(root)
    assert listed == 1  # app/lib only: editing a file does not change its folder's listing
    assert warm == _fresh(root)
    assert "app/lib/new.py" in [f.path for f in warm.files]


def test_an_ignore_file_edited_in_place_is_seen_below_it(make_tree: MakeTree) -> None:
    root = _settled(make_tree({**TREE, ".gitignore": "*.json\n"}))
    first, _ = _warm(root)
    assert "app/lib/deep/data.json" not in [f.path for f in first.files]
    _next_tick(root)
    before = root.stat().st_mtime_ns
    (root / ".gitignore").write_text("*.css\n")  # same folder listing, new rules
    assert root.stat().st_mtime_ns == before
    warm, listed = _warm(root)
    assert listed == FOLDERS  # every folder below a changed rule file is decided again
    assert warm == _fresh(root)
    paths = [f.path for f in warm.files]
    assert "app/lib/deep/data.json" in paths
    assert "web/assets/site.css" not in paths


def test_an_enclosing_work_tree_gitignore_edit_is_seen(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {".gitignore": "*.md\n"})
    (repo / ".git").mkdir()
    root = write_tree(repo / "app", TREE)
    first, _ = _warm(root)
    assert "README.md" not in [f.path for f in first.files]
    (repo / ".gitignore").write_text("*.py\n")
    warm, _ = _warm(root)
    assert warm == _fresh(root)
    assert "README.md" in [f.path for f in warm.files]


def test_a_new_secret_is_kept_home_and_its_folder_never_recorded(make_tree: MakeTree) -> None:
    root = _settled(make_tree(TREE))
    _warm(root)
    _next_tick(root)
    (root / "app" / ".env").write_text("TOKEN=canary-listing-cache\n")
    (root / "app" / "id_rsa").write_text("key")
    for _ in range(2):
        warm, listed = _warm(root)
        assert listed == 1  # a folder holding a secret is listed every time
        assert warm == _fresh(root)
        assert warm.excluded_secrets == ("app/.env", "app/id_rsa")
    text = _listing_file(root).read_text()
    assert ".env" not in text and "id_rsa" not in text and "canary" not in text


def test_recently_changed_folders_are_not_recorded_by_default(make_tree: MakeTree) -> None:
    root = make_tree(TREE)
    for _ in range(2):
        with _counting_listings() as listed:
            select_files(root, listings="reuse")
        assert len(listed) == FOLDERS  # every folder was written within the racy window


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"{not json",
        b"[]",
        b'{"format": "other", "entries": {}}',
        b'{"format": "odplan-source-listing-cache/1", "entries": []}',
    ],
)
def test_a_corrupt_listing_cache_is_ignored(make_tree: MakeTree, garbage: bytes) -> None:
    root = make_tree(TREE)
    _listing_file(root).parent.mkdir()
    _listing_file(root).write_bytes(garbage)
    selection, listed = _warm(root)
    assert (selection, listed) == (_fresh(root), FOLDERS)
    assert _warm(root)[1] == 0  # rewritten, valid


def _tamper_folder(root: Path, prefix: str, change: Callable[[list[Any]], None]) -> None:
    path = _listing_file(root)
    data = json.loads(path.read_text())
    change(data["entries"][prefix])
    path.write_text(json.dumps(data))


def _tamper(root: Path, change: Callable[[list[Any]], None]) -> None:
    _tamper_folder(root, "", change)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda r: r[4].append("missing.txt"), id="names-a-missing-file"),
        pytest.param(lambda r: r[4].append("app"), id="names-a-folder-as-a-file"),
        pytest.param(lambda r: r[5].append("README.md"), id="names-a-file-as-a-folder"),
        pytest.param(lambda r: r[4].append(7), id="a-name-that-is-not-text"),
        pytest.param(lambda r: r.__setitem__(3, 42), id="a-fingerprint-that-is-not-text"),
        pytest.param(lambda r: r.__setitem__(3, "0" * 64), id="another-rules-fingerprint"),
        pytest.param(lambda r: r.pop(), id="a-short-record"),
    ],
)
def test_a_record_that_does_not_fit_the_folder_is_not_used(
    make_tree: MakeTree, change: Callable[[list[object]], None]
) -> None:
    root = _settled(make_tree(TREE))
    _warm(root)
    _tamper(root, change)
    selection, listed = _warm(root)
    assert selection == _fresh(root)
    assert listed == 1  # the root, listed afresh; its subfolders still replayed


def test_uploads_ignore_and_apply_walks_refresh_a_stale_listing(make_tree: MakeTree) -> None:
    """A stale record (here: forged to hide README.md) can only affect `odplan plan`'s digest:
    archives never read the cache, and a "refresh" walk (apply's) ignores and rewrites it."""
    root = _settled(make_tree(TREE))
    _warm(root)
    _tamper(root, lambda record: record[4].remove("README.md"))
    stale, _ = _warm(root)
    assert "README.md" not in [f.path for f in stale.files]  # the premise: the record is used
    archive = build_archive(root, root.parent / "out.zip")
    assert "README.md" in [f.path for f in archive.selection.files]
    assert archive.digest != digest_source(root, racy_window_ns=0).digest

    with _counting_listings() as listed:
        refreshed = select_files(root, listings="refresh", racy_window_ns=0)
    assert (refreshed, len(listed)) == (_fresh(root), FOLDERS)
    assert _warm(root) == (_fresh(root), 0)  # the cache now holds the fresh walk


@pytest.mark.parametrize(
    ("field", "name"),
    [
        (4, "../.env"),  # a path, and a secret one
        (4, ".env"),
        (4, "ID_RSA"),
        (4, "a/b"),
        (4, "nul\0byte"),
        (4, "line\nbreak"),
        (4, "\udcff-not-utf8"),
        (5, ".."),
        (5, "."),
        (5, ".git"),
        (5, ""),
        (8, "notes.txt"),  # not an ignore file
    ],
)
def test_a_forged_name_is_never_used_and_never_read(
    make_tree: MakeTree, field: int, name: str
) -> None:
    root = make_tree({**TREE, ".env": "TOKEN=canary-forged-record\n"})
    (root / "sub").mkdir()
    _warm(root)
    _warm(root)  # the root holds a secret, so only its subfolders are recorded
    path = _listing_file(root)
    data = json.loads(path.read_text())
    data["entries"]["app/"][field].append(name)
    path.write_text(json.dumps(data))
    selection, listed = _warm(root)
    assert selection == _fresh(root)
    assert listed == 2  # the root (holds .env) and app/, whose record was refused
    digest_source(root, racy_window_ns=0)
    assert "canary" not in "".join(
        p.read_text(errors="replace") for p in (root / CACHE_FOLDER).iterdir() if p.is_file()
    )


def test_absurdly_nested_cache_json_is_ignored(make_tree: MakeTree) -> None:
    root = make_tree(TREE)
    _listing_file(root).parent.mkdir()
    _listing_file(root).write_text("[" * 100_000)
    (root / CACHE_FOLDER / "source-digest-cache.json").write_text("[" * 100_000)
    assert _warm(root)[0] == _fresh(root)
    assert (
        digest_source(root, racy_window_ns=0).digest == digest_source(root, use_cache=False).digest
    )


def test_files_held_back_as_secrets_are_never_named_in_the_cache(make_tree: MakeTree) -> None:
    root = make_tree({**TREE, "config/prod.vars": "TOKEN=x\n", "keys/.npmrc": "//r/:_authToken=x"})
    (root / "app" / "npmrc-link").symlink_to(root / "keys" / ".npmrc")
    for _ in range(2):
        selection = select_files(
            root, secret_files=["config/prod.vars"], listings="reuse", racy_window_ns=0
        )
        assert {"config/prod.vars", "app/npmrc-link", "keys/.npmrc"} <= set(
            selection.excluded_secrets
        )
    text = _listing_file(root).read_text()
    assert "prod.vars" not in text and "npmrc" not in text
    assert '"web/"' in text  # other folders are still recorded


def test_a_symlinked_cache_folder_is_neither_read_nor_written(
    make_tree: MakeTree, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = make_tree(TREE)
    (root / CACHE_FOLDER).symlink_to(elsewhere, target_is_directory=True)
    assert _warm(root)[0] == _fresh(root)
    digest_source(root, racy_window_ns=0)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("kind", ["folder", "fifo", "dangling-link"])
def test_an_ignore_file_that_is_not_a_file_has_no_rules(make_tree: MakeTree, kind: str) -> None:
    root = make_tree(TREE)
    rules = root / "app" / ".gitignore"
    if kind == "folder":
        rules.mkdir()
    elif kind == "fifo":
        os.mkfifo(rules)  # opening it for reading would block a careless walker
    else:
        rules.symlink_to(root / "missing")
    for _ in range(2):
        assert _warm(root)[0] == _fresh(root)
    assert "app/main.py" in [f.path for f in _fresh(root).files]


# Differential test: random edits between warm walks; a warm walk must equal a fresh one, and a
# cached digest an uncached one.
RULE_FILES = [".gitignore", ".odplanignore"]
_NAMES = ["a.py", "b.txt", "c.log", "dist", "lib", "docs", ".env", "key.pem", "run.sh", "x"]
_RULES = ["*.log", "!c.log", "docs/", "/a.py", "lib/**", "!lib/keep/", "*.txt", "!dist/", "x"]


def _folders(root: Path) -> list[Path]:
    found = [root]
    for folder, dirs, _ in os.walk(root):
        dirs[:] = [d for d in dirs if d != CACHE_FOLDER and not (Path(folder) / d).is_symlink()]
        found.extend(Path(folder) / d for d in dirs)
    return found


def _files(root: Path) -> list[Path]:
    return [
        Path(folder) / name
        for folder, dirs, names in os.walk(root)
        if CACHE_FOLDER not in Path(folder).parts
        for name in names
    ]


def _is_plain_or_free(path: Path) -> bool:
    return not path.is_symlink() and (path.is_file() or not path.exists())


def _edit(root: Path, rng: random.Random) -> None:
    folder = rng.choice(_folders(root))
    files = _files(root)
    kind = rng.choice(
        [
            "add",
            "add",
            "remove",
            "rename",
            "content",
            "chmod",
            "mkdir",
            "rmtree",
            "rules",
            "file-to-folder",
            "symlink",
            "enclosing-rules",
        ]
    )
    target = folder / rng.choice(_NAMES)
    free = not target.exists() and not target.is_symlink()  # a dangling link is not free
    if kind == "add" and free:
        target.write_text(f"{rng.random()}\n")
    elif kind == "remove" and files:
        rng.choice(files).unlink()
    elif kind == "rename" and files:
        source = rng.choice(files)
        if free:
            source.rename(target)
    elif kind == "content" and files:
        path = rng.choice(files)
        if not path.is_symlink():
            path.write_text(f"{rng.random()}\n")
    elif kind == "chmod" and files:
        path = rng.choice(files)
        if not path.is_symlink():
            path.chmod(path.stat().st_mode ^ 0o100)
    elif kind == "mkdir" and free:
        target.mkdir()
        (target / rng.choice(_NAMES)).write_text("new\n")
    elif kind == "rmtree" and folder != root:
        shutil.rmtree(folder)
    elif kind == "rules" and _is_plain_or_free(rules := folder / rng.choice(RULE_FILES)):
        rules.write_text("\n".join(rng.sample(_RULES, rng.randint(0, 3))) + "\n")
    elif kind == "file-to-folder" and files:
        path = rng.choice(files)
        path.unlink()
        path.mkdir()
        (path / "inner.py").write_text("inner\n")
    elif kind == "symlink" and free:
        pointee = rng.choice([*_files(root), *_folders(root), root.parent / "outside"])
        target.symlink_to(pointee)
    elif kind == "enclosing-rules":
        lines = rng.sample(_RULES, rng.randint(0, 2))
        (root.parent / ".gitignore").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("seed", range(int(os.environ.get("ODPLAN_LISTING_SEEDS", "8"))))
def test_a_warm_walk_always_equals_a_fresh_walk(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "outside").write_text("not in the source folder\n")
    root = write_tree(repo / "app", TREE)
    listed_warm = listed_fresh = 0
    for _ in range(25):
        warm, listed = _warm(root)
        assert warm == _fresh(root)
        # Both caches end to end (file hashes and remembered tree digests included).
        cached = digest_source(root, racy_window_ns=0)
        assert cached.digest == digest_source(root, use_cache=False).digest
        listed_warm += listed
        listed_fresh += len(_folders(root))
        _next_tick(root)
        for _ in range(rng.randint(1, 3)):
            _edit(root, rng)
    assert _warm(root)[0] == _fresh(root)
    # The cache was really used: rule edits and secrets (both frequent here) force re-listing.
    assert listed_warm < 0.85 * listed_fresh


def test_a_refresh_that_records_nothing_still_drops_stale_records(make_tree: MakeTree) -> None:
    """Apply's walk ("refresh") replaces the cache even when it may record no folder at all
    (here: the root holds a secret, and every folder counts as recently changed)."""
    root = _settled(make_tree({**TREE, ".env": "TOKEN=x\n"}))
    _warm(root)
    _tamper_folder(root, "web/", lambda record: record[4].remove("index.html"))
    assert "web/index.html" not in [f.path for f in _warm(root)[0].files]  # stale record used
    select_files(root, listings="refresh", racy_window_ns=10**18)
    assert _warm(root)[0] == _fresh(root)
