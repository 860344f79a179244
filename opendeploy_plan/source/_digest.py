"""Content digests of a selection (`odsrc1:`), per service and per project, with a stat cache.

A digest covers exactly the selected files: path, normalized mode and bytes, in path order, so
it does not depend on file system order, timestamps or umask. The cache under `.opendeploy/`
only saves re-reading unchanged files; it never decides a digest on its own.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NamedTuple, cast

from opendeploy_plan.source._cache import (
    CACHE_FOLDER,
    RACY_WINDOW_NS,
    collector_paused,
    is_settled,
    load_document,
    save_entries,
    scan_started_ns,
)
from opendeploy_plan.source._errors import (
    MiningHit,
    MiningRefusal,
    SourceChangedError,
    SourceError,
)
from opendeploy_plan.source._scan import FileScan, scan_file
from opendeploy_plan.source._select import (
    SelectedFile,
    Selection,
    check_service_subtrees,
    normalize_subpath,
    select_files,
    service_subpaths,
)

DIGEST_PREFIX: Final = "odsrc1:"
_DIGEST_HEADER: Final = b"odsrc1\n"
CACHE_FILE: Final = "source-digest-cache.json"
_CACHE_FORMAT: Final = "odplan-source-digest-cache/2"


def tree_digest(entries: Iterable[tuple[str, int, str]]) -> str:
    """The `odsrc1:` digest of (path, mode, sha256-hex) entries, in any order.

    Format: SHA-256 over `odsrc1\\n` then, sorted by UTF-8 path, one record per file:
    `<mode octal> <sha256 hex> <len(path)>:<path>\\n`. The length prefix keeps odd names
    (newlines, spaces) unambiguous.
    """
    # Python orders str by code point, which is UTF-8 byte order: sort once, encode once.
    records = "".join(
        f"{_MODES.get(mode) or format(mode, 'o')} {sha} "
        f"{len(path) if path.isascii() else len(path.encode('utf-8'))}:{path}\n"
        for path, mode, sha in sorted(entries)
    )
    return DIGEST_PREFIX + hashlib.sha256(_DIGEST_HEADER + records.encode("utf-8")).hexdigest()


_MODES: Final = {0o100644: "100644", 0o100755: "100755"}


class FileDigest(NamedTuple):
    """One selected file's content hash, the mining markers found in it, and the credential
    its first MiB holds (`_scan.secret_content`; such a file is held back, never uploaded)."""

    path: str
    mode: int
    size: int
    sha256: str
    markers: tuple[str, ...] = ()
    secret: str | None = None


@dataclass(frozen=True)
class SourceDigest:
    """Digests of one project's source folder: the whole (`digest`) and each service's subtree
    (`services`, keyed by service name; paths inside are relative to the service's folder)."""

    root: Path
    digest: str
    services: Mapping[str, str]
    subpaths: Mapping[str, str]
    selection: Selection
    files: tuple[FileDigest, ...]
    cache_hits: int = 0

    @property
    def mining(self) -> tuple[MiningHit, ...]:
        return tuple(MiningHit(f.path, m) for f in self.files for m in f.markers)

    def digest_of(self, subpath: str) -> str:
        """The digest of the files under a root-relative subfolder (paths relative to it)."""
        return subtree_digest(self.files, subpath)

    def refuse_mining(self) -> None:
        """Raise MiningRefusal when any selected file contains a mining marker."""
        hits = list(self.mining)
        if hits:
            raise MiningRefusal(hits)


def subtree_digest(files: Iterable[FileDigest], subpath: str) -> str:
    prefix = normalize_subpath(subpath)
    if not prefix:
        return tree_digest((f.path, f.mode, f.sha256) for f in files)
    head = prefix + "/"
    return tree_digest(
        (f.path[len(head) :], f.mode, f.sha256) for f in files if f.path.startswith(head)
    )


@dataclass
class DigestCache:
    """Content hashes keyed by root-relative path and stat, stored as JSON (`_cache`):
    `path: [size, mtime_ns, ctime_ns, inode, sha256 hex, [mining markers], credential|null]`.

    ctime_ns catches a same-size edit whose mtime was set back with utime (utime itself moves
    ctime, which users cannot set); the inode catches replace-by-rename saves.

    `trees` keeps the tree digests (by subpath) of the selection the entries were written for,
    when they cover all of it. A later pass in which every selected file hits its entry and no
    entry is left over has the very same (path, mode, sha256) list: the same stat key means
    the same content and mode (chmod moves ctime). Such a pass reuses them (`unchanged`).
    """

    path: Path
    entries: dict[str, Any] = field(default_factory=dict)
    trees: dict[str, Any] = field(default_factory=dict)
    dirty: bool = False
    unchanged: bool = False  # set by `update`: the selection is the one `trees` describe
    complete: bool = False  # set by `update`: every selected file has an entry

    @classmethod
    def load(cls, root: Path) -> DigestCache:
        path = root / CACHE_FOLDER / CACHE_FILE
        document = load_document(path, _CACHE_FORMAT)
        entries, trees = document.get("entries"), document.get("trees")
        return cls(
            path,
            entries if isinstance(entries, dict) else {},
            trees if isinstance(trees, dict) else {},
        )

    def known(self, files: Sequence[SelectedFile]) -> list[FileDigest | None]:
        """Each file's digest from the cache when its stat key is unchanged and the entry is
        well formed, else None (the warm path: one loop, no call per file)."""
        get, new = self.entries.get, tuple.__new__
        found: list[FileDigest | None] = []
        for path, _, size, mode, mtime_ns, ctime_ns, inode in files:
            entry = get(path)
            if (
                type(entry) is list
                and len(entry) == 7
                and entry[0] == size
                and entry[1] == mtime_ns
                and entry[2] == ctime_ns
                and entry[3] == inode
                and type(sha := entry[4]) is str
                and len(sha) == 64
                and type(markers := entry[5]) is list
                and ((secret := entry[6]) is None or type(secret) is str)
            ):
                if not markers and secret is None:
                    found.append(new(FileDigest, (path, mode, size, sha, (), None)))
                    continue
                if all(type(m) is str for m in markers):
                    found.append(FileDigest(path, mode, size, sha, tuple(markers), secret))
                    continue
            found.append(None)
        return found

    def update(
        self,
        files: Sequence[SelectedFile],
        fresh: Mapping[int, FileScan],
        *,
        started_ns: int,
        racy_window_ns: int,
    ) -> None:
        """Keep the entries of this selection's files: the loaded ones for hits (the very
        objects, so nothing is rewritten), new ones for `fresh` scans (by index into `files`)
        that were settled before the scan started. Removed files drop out."""
        if not fresh and len(files) == len(self.entries):
            # Every file was a hit and no entry is left over: nothing to write.
            self.unchanged = self.complete = True
            return
        old, entries = self.entries, {}
        added = False
        for index, file in enumerate(files):
            scan = fresh.get(index)
            if scan is None:
                entries[file.path] = old[file.path]
            elif scan.size == file.size and is_settled(
                file.mtime_ns, file.ctime_ns, started_ns, racy_window_ns
            ):
                stat_key = [file.size, file.mtime_ns, file.ctime_ns, file.inode]
                entries[file.path] = [*stat_key, scan.sha256, list(scan.markers), scan.secret]
                added = True
        self.dirty = added or entries.keys() != old.keys()
        self.entries = entries
        self.complete = len(entries) == len(files)
        if self.trees:
            self.trees, self.dirty = {}, True

    def tree(self, files: Sequence[FileDigest], subpath: str) -> str:
        """`subtree_digest(files, subpath)`, reused from `trees` when the pass changed nothing
        and remembered when the entries cover the whole selection."""
        known = self.trees.get(subpath) if self.unchanged else None
        if type(known) is str and len(known) == 71 and known.startswith(DIGEST_PREFIX):
            return known
        digest = subtree_digest(files, subpath)
        if self.complete:
            self.trees[subpath] = digest
            self.dirty = True
        return digest

    def save(self) -> None:
        extra = {"trees": self.trees}
        if self.dirty and save_entries(self.path, _CACHE_FORMAT, self.entries, extra):
            self.dirty = False


def _scan_one(file: SelectedFile) -> FileScan:
    try:
        return scan_file(file.source, file.size)
    except FileNotFoundError as exc:
        raise SourceChangedError(f"{file.path} disappeared while reading; run again") from exc
    except OSError as exc:
        raise SourceError(f"{file.path}: cannot read ({exc.strerror or exc})") from exc


def _scan_batch(files: Sequence[SelectedFile]) -> list[FileScan]:
    return [_scan_one(f) for f in files]


def scan_files(files: Sequence[SelectedFile], workers: int) -> list[FileScan]:
    """Hash files, in parallel threads when it helps (hashlib and reads release the GIL)."""
    if workers <= 1 or len(files) < 2:
        return _scan_batch(files)
    batches = [files[k::workers] for k in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_scan_batch, batches))
    ordered: list[FileScan | None] = [None] * len(files)
    for k, batch_result in enumerate(results):
        ordered[k::workers] = batch_result
    return [scan for scan in ordered if scan is not None]


def default_workers() -> int:
    """One: the marker search holds the GIL, so on a couple of shared cores extra threads
    measured slower (benchmarks/source.py prints both); callers may still pass `workers`."""
    return 1


def digest_selection(
    selection: Selection,
    cache: DigestCache | None,
    *,
    racy_window_ns: int = RACY_WINDOW_NS,
    workers: int | None = None,
) -> tuple[tuple[FileDigest, ...], int]:
    """Hash every selected file (`cache` first, then updated); return the file digests and
    the cache hit count. The caller saves the cache."""
    started = scan_started_ns(cache.path.parent) if cache is not None else time.time_ns()
    files = selection.files
    digests: list[FileDigest | None] = (
        cache.known(files) if cache is not None else [None] * len(files)
    )
    missing = [index for index, found in enumerate(digests) if found is None]
    scans = scan_files([files[i] for i in missing], workers or default_workers())
    fresh = dict(zip(missing, scans, strict=True))
    for index, scan in fresh.items():
        file = files[index]
        digests[index] = FileDigest(
            file.path, file.mode, scan.size, scan.sha256, scan.markers, scan.secret
        )
    if cache is not None:
        cache.update(files, fresh, started_ns=started, racy_window_ns=racy_window_ns)
    # Every slot is filled now: hits above, fresh scans just before.
    return cast("tuple[FileDigest, ...]", tuple(digests)), len(files) - len(missing)


def digest_source(
    root: str | os.PathLike[str],
    services: Mapping[str, str] | None = None,
    *,
    use_cache: bool = True,
    racy_window_ns: int = RACY_WINDOW_NS,
    workers: int | None = None,
    selection: Selection | None = None,
) -> SourceDigest:
    """Select and digest a project's source folder and each service's `source` subfolder.

    `services` maps service name to its source path relative to `root`. Raises SourceError
    (SourceOutsideRoot) for a service folder that is missing or outside the root.
    """
    base = Path(root).absolute()
    subpaths = service_subpaths(base, services or {})
    with collector_paused():  # one pause for both passes (see collector_paused)
        chosen = selection
        if chosen is None:
            chosen = select_files(
                base, listings="reuse" if use_cache else "off", racy_window_ns=racy_window_ns
            )
        check_service_subtrees(chosen, subpaths)
        cache = DigestCache.load(chosen.root) if use_cache else None
        files, hits = digest_selection(
            chosen, cache, racy_window_ns=racy_window_ns, workers=workers
        )
        held = {f.path: f.secret for f in files if f.secret is not None}
        if held:  # credentials found by content stay home, like those found by name
            chosen = chosen.holding_back(held)
            files = tuple(f for f in files if f.secret is None)
            check_service_subtrees(chosen, subpaths)
        tree = cache.tree if cache is not None else subtree_digest
        digest = tree(files, "")
        services = {name: tree(files, sub) for name, sub in subpaths.items()}
        if cache is not None:
            cache.save()
            del cache  # freed now, by reference count, instead of scanned by the collector
    return SourceDigest(
        root=base,
        digest=digest,
        services=services,
        subpaths=subpaths,
        selection=chosen,
        files=files,
        cache_hits=hits,
    )


def digest_tree(root: str | os.PathLike[str], subpath: str = "") -> str:
    """The `odsrc1:` digest of the files selected under `root/subpath` (cached)."""
    result = digest_source(root, {"": subpath} if subpath else None)
    return result.services[""] if subpath else result.digest


def refuse_mining(root: str | os.PathLike[str]) -> None:
    """Raise MiningRefusal (one-sentence reason) when the selected source has mining markers.

    Uses the digest pass and its cache, so a warm check reads no file contents.
    """
    digest_source(root).refuse_mining()
