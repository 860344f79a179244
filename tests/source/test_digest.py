"""Digests: exactly the selected files (path + mode + bytes), cached by stat, never stale."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from opendeploy_plan.source import (
    DIGEST_PREFIX,
    SourceError,
    build_archive,
    digest_source,
    digest_tree,
    digest_zip,
    select_files,
)
from opendeploy_plan.source._cache import CACHE_FOLDER
from opendeploy_plan.source._digest import CACHE_FILE
from opendeploy_plan.source._listing import LISTING_FILE
from tests.source.conftest import set_mtime, write_tree

MakeTree = Callable[..., Path]
FILES = {"app/main.py": "print(1)\n", "app/run.sh": "#!/bin/sh\n", "README.md": "# hi\n"}


def _digest(root: Path, **kwargs: object) -> str:
    return digest_source(root, use_cache=False, **kwargs).digest  # type: ignore[arg-type]


def test_digest_has_a_version_prefix_and_ignores_order_and_timestamps(
    make_tree: MakeTree,
) -> None:
    first = make_tree(FILES)
    second = make_tree(dict(reversed(FILES.items())))
    for index, path in enumerate(sorted(second.rglob("*"))):
        set_mtime(path, 1_000_000 + index * 7919)
    assert _digest(first).startswith(DIGEST_PREFIX)
    assert _digest(first) == _digest(second)


@pytest.mark.parametrize(
    "change",
    ["content", "executable bit", "rename", "new file", "removed file"],
)
def test_digest_changes_with_anything_uploaded(make_tree: MakeTree, change: str) -> None:
    root = make_tree(FILES)
    before = _digest(root)
    if change == "content":
        (root / "README.md").write_text("# ho\n")
    elif change == "executable bit":
        os.chmod(root / "app" / "run.sh", 0o755)
    elif change == "rename":
        (root / "README.md").rename(root / "README.txt")
    elif change == "new file":
        (root / "app" / "extra.py").write_text("")
    else:
        (root / "app" / "main.py").unlink()
    assert _digest(root) != before


def test_digest_ignores_what_is_not_uploaded(make_tree: MakeTree) -> None:
    root = make_tree(FILES)
    before = _digest(root)
    write_tree(root, {".env": "S=1", "node_modules/x.js": "", ".git/HEAD": "", "k.pem": "k"})
    os.chmod(root / "README.md", 0o640)  # group/other bits are not part of the digest
    assert _digest(root) == before


def test_service_digest_is_the_subtree_seen_from_inside(make_tree: MakeTree) -> None:
    root = make_tree({**FILES, "other/x.py": ""})
    alone = make_tree({"main.py": "print(1)\n", "run.sh": "#!/bin/sh\n"})
    result = digest_source(root, {"api": "app", "whole": "."}, use_cache=False)
    assert result.services["api"] == _digest(alone)
    assert result.services["whole"] == result.digest
    assert digest_tree(root, "app") == result.services["api"]


def test_editing_one_service_changes_only_its_digest(make_tree: MakeTree) -> None:
    root = make_tree({"api/main.py": "a", "web/index.js": "w"})
    services = {"api": "api", "web": "web"}
    before = digest_source(root, services, use_cache=False)
    (root / "web" / "index.js").write_text("w2")
    after = digest_source(root, services, use_cache=False)
    assert after.services["api"] == before.services["api"]
    assert after.services["web"] != before.services["web"]
    assert after.digest != before.digest


def test_digest_of_the_archive_equals_the_digest_of_the_tree(make_tree: MakeTree) -> None:
    root = make_tree({**FILES, "lib/data.bin": bytes(range(256)) * 50, "img.png": b"\x89PNG"})
    os.chmod(root / "app" / "run.sh", 0o755)
    archive = build_archive(root, root.parent / "out.zip", {"api": "app"})
    assert digest_zip(archive.path) == archive.digest == _digest(root)
    assert archive.services["api"] == digest_source(root, {"api": "app"}).services["api"]


# The cache: keyed by path, size, mtime_ns, ctime_ns and inode; tests pass racy_window_ns=0
# so files written a moment ago may be cached (the default window refuses them; see below).


def _cached(root: Path) -> tuple[str, int]:
    result = digest_source(root, racy_window_ns=0)
    return result.digest, result.cache_hits


def test_an_unchanged_tree_is_answered_from_the_cache(make_tree: MakeTree) -> None:
    root = make_tree(FILES)
    cold_digest, cold_hits = _cached(root)
    warm_digest, warm_hits = _cached(root)
    assert (cold_hits, warm_hits) == (0, len(FILES))
    assert warm_digest == cold_digest == _digest(root)


def _wait_for_new_ctime(path: Path, old_ctime_ns: int) -> None:
    deadline = time.monotonic() + 2
    while path.stat().st_ctime_ns == old_ctime_ns and time.monotonic() < deadline:
        time.sleep(0.01)
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))


def test_a_same_size_edit_with_mtime_set_back_is_still_seen(make_tree: MakeTree) -> None:
    root = make_tree(FILES)
    target = root / "README.md"
    before = target.stat()
    first, _ = _cached(root)
    time.sleep(0.02)  # past the file system's timestamp tick, so ctime can move
    target.write_text("# HI\n")  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # same mtime, same second
    _wait_for_new_ctime(target, before.st_ctime_ns)
    after = target.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    digest, hits = _cached(root)
    assert hits == len(FILES) - 1
    assert digest != first
    assert digest == _digest(root)


def test_a_file_replaced_by_rename_is_seen(make_tree: MakeTree) -> None:
    root = make_tree(FILES)
    first, _ = _cached(root)
    target = root / "app" / "main.py"
    stamp = target.stat()
    replacement = root / "app" / ".main.py.swp"
    replacement.write_text("print(2)\n")
    os.utime(replacement, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    replacement.replace(target)
    digest, _ = _cached(root)
    assert digest != first
    assert digest == _digest(root)


def test_recently_modified_files_are_not_trusted_by_default(make_tree: MakeTree) -> None:
    root = make_tree(FILES)
    digest_source(root)
    assert digest_source(root).cache_hits == 0  # all files were written within the window
    old = time.time() - 3600
    for path in root.rglob("*"):
        os.utime(path, (old, old))
    # ctime is still "now", and ctime cannot be set back: still not trusted.
    assert digest_source(root).cache_hits == 0


@pytest.mark.parametrize(
    "garbage",
    [b"", b"{not json", b"[]", b'{"format": "other"}', b'{"format": 1, "entries": []}'],
)
def test_a_corrupt_cache_is_ignored(make_tree: MakeTree, garbage: bytes) -> None:
    root = make_tree(FILES)
    expected = _digest(root)
    cache = root / CACHE_FOLDER / CACHE_FILE
    cache.parent.mkdir()
    cache.write_bytes(garbage)
    assert digest_source(root, racy_window_ns=0).digest == expected
    assert json.loads(cache.read_text())["entries"]  # rewritten, valid


def test_a_cache_entry_with_a_wrong_hash_shape_is_ignored(make_tree: MakeTree) -> None:
    root = make_tree(FILES)
    expected, _ = _cached(root)
    cache = root / CACHE_FOLDER / CACHE_FILE
    data = json.loads(cache.read_text())
    for entry in data["entries"].values():
        entry[4] = "not-a-sha"
    cache.write_text(json.dumps(data))
    assert _cached(root) == (expected, 0)


def test_cache_writes_are_atomic_and_leave_no_temporary_files(make_tree: MakeTree) -> None:
    root = make_tree(FILES)
    _cached(root)
    (root / "README.md").write_text("changed")
    _cached(root)
    folder = root / CACHE_FOLDER
    assert sorted(p.name for p in folder.iterdir()) == [
        ".clock",  # the file system's clock, for the racy window
        ".gitignore",
        CACHE_FILE,
        LISTING_FILE,
    ]
    assert (folder / ".gitignore").read_text() == "*\n"
    assert set(json.loads((folder / CACHE_FILE).read_text())["entries"]) == set(FILES)


def test_an_unwritable_cache_folder_is_not_an_error(make_tree: MakeTree) -> None:
    root = make_tree(FILES)
    (root / CACHE_FOLDER).write_text("a file where the folder should be")
    assert digest_source(root, racy_window_ns=0).digest == _digest(root)


def test_the_cache_never_names_or_hashes_a_secret(make_tree: MakeTree) -> None:
    root = make_tree({**FILES, ".env": "TOKEN=canary-digest-cache", "id_rsa": "key"})
    _cached(root)
    entries = json.loads((root / CACHE_FOLDER / CACHE_FILE).read_text())["entries"]
    assert set(entries) == set(FILES)


def test_selection_is_shared_between_digest_and_archive(make_tree: MakeTree) -> None:
    root = make_tree(FILES)
    selection = select_files(root)
    result = digest_source(root, selection=selection, use_cache=False)
    assert [f.path for f in result.files] == [f.path for f in selection.files]


def test_a_service_whose_folder_would_be_uploaded_empty_is_an_error(make_tree: MakeTree) -> None:
    root = make_tree({"site/dist/index.html": "<h1>", "api/main.py": ""})
    with pytest.raises(SourceError, match=r"service 'site': no file under 'site/dist'"):
        digest_source(root, {"site": "site/dist", "api": "api"})
    with pytest.raises(SourceError, match=r"add `!site/dist/` to \.odplanignore"):
        build_archive(root, root.parent / "x.zip", {"site": "site/dist"})
    (root / ".odplanignore").write_text("!dist/\n")
    assert digest_source(root, {"site": "site/dist"}).services["site"].startswith("odsrc1:")


def test_a_file_vanishing_between_selection_and_reading_is_a_source_error(
    make_tree: MakeTree,
) -> None:
    root = make_tree(FILES)
    selection = select_files(root)
    (root / "README.md").unlink()
    with pytest.raises(SourceError, match=r"README\.md disappeared"):
        digest_source(root, selection=selection, use_cache=False)
    with pytest.raises(SourceError, match=r"README\.md disappeared"):
        build_archive(root, root.parent / "gone.zip", selection=selection)
    assert not (root.parent / "gone.zip").exists()


def test_an_unchanged_tree_reuses_its_tree_digests_and_a_chmod_is_still_seen(
    make_tree: MakeTree,
) -> None:
    root = make_tree(FILES)
    services = {"api": "app"}
    first = digest_source(root, services, racy_window_ns=0)
    trees = json.loads((root / CACHE_FOLDER / CACHE_FILE).read_text())["trees"]
    assert trees == {"": first.digest, "app": first.services["api"]}
    again = digest_source(root, services, racy_window_ns=0)
    assert (again.digest, again.services) == (first.digest, first.services)
    assert again.cache_hits == len(FILES)

    time.sleep(0.02)  # past the file system's timestamp tick, so ctime moves
    (root / "README.md").chmod(0o755)
    changed = digest_source(root, services, racy_window_ns=0)
    assert changed.digest != first.digest
    assert changed.digest == _digest(root)
    assert changed.services == first.services  # README.md is outside app/


def test_remembered_tree_digests_are_dropped_when_a_file_goes(make_tree: MakeTree) -> None:
    root = make_tree(FILES)
    first = digest_source(root, racy_window_ns=0).digest
    (root / "app" / "run.sh").unlink()
    after = digest_source(root, racy_window_ns=0).digest
    assert after != first and after == _digest(root)


def test_a_forged_tree_digest_is_never_used_while_anything_changed(make_tree: MakeTree) -> None:
    root = make_tree(FILES)
    digest_source(root, racy_window_ns=0)
    path = root / CACHE_FOLDER / CACHE_FILE
    data = json.loads(path.read_text())
    data["trees"][""] = DIGEST_PREFIX + "0" * 64
    path.write_text(json.dumps(data))
    (root / "new.txt").write_text("new")  # a file with no entry: nothing is "unchanged"
    assert digest_source(root, racy_window_ns=0).digest == _digest(root)
