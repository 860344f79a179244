"""Content digests of a selection (`odsrc1:`), per service and per project, with a stat cache.

A digest covers exactly the selected files: path, normalized mode and bytes, in path order, so
it does not depend on file system order, timestamps or umask. The cache under `.opendeploy/`
only saves re-reading unchanged files; it never decides a digest on its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NamedTuple

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
CACHE_FOLDER: Final = ".opendeploy"
CACHE_FILE: Final = "source-digest-cache.json"
_CACHE_FORMAT: Final = "odplan-source-digest-cache/1"
# Files whose mtime or ctime is this close to the scan's start are not cached: a same-size edit
# inside the file system's timestamp granularity (2 s on FAT, 1 s on HFS+) could otherwise keep
# an identical stat ("racily clean" in git's terms).
RACY_WINDOW_NS: Final = 2_000_000_000


def tree_digest(entries: Iterable[tuple[str, int, str]]) -> str:
    """The `odsrc1:` digest of (path, mode, sha256-hex) entries, in any order.

    Format: SHA-256 over `odsrc1\\n` then, sorted by UTF-8 path, one record per file:
    `<mode octal> <sha256 hex> <len(path)>:<path>\\n`. The length prefix keeps odd names
    (newlines, spaces) unambiguous.
    """
    encoded = sorted((path.encode("utf-8"), mode, sha) for path, mode, sha in entries)
    records = b"".join(
        b"%o %s %d:%s\n" % (mode, sha.encode("ascii"), len(path), path)
        for path, mode, sha in encoded
    )
    return DIGEST_PREFIX + hashlib.sha256(_DIGEST_HEADER + records).hexdigest()


class FileDigest(NamedTuple):
    """One selected file's content hash and the mining markers found in it."""

    path: str
    mode: int
    size: int
    sha256: str
    markers: tuple[str, ...] = ()


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


def _stat_key(file: SelectedFile) -> list[int]:
    # ctime_ns catches a same-size edit whose mtime was set back with utime (utime itself
    # moves ctime, which users cannot set); the inode catches replace-by-rename saves.
    return [file.size, file.mtime_ns, file.ctime_ns, file.inode]


@dataclass
class DigestCache:
    """Content hashes keyed by root-relative path and stat; stored as JSON, written atomically.

    A missing, unreadable or malformed cache file is treated as empty, never as an error.
    """

    path: Path
    entries: dict[str, list[Any]] = field(default_factory=dict)
    dirty: bool = False

    @classmethod
    def load(cls, root: Path) -> DigestCache:
        path = root / CACHE_FOLDER / CACHE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path)
        if not isinstance(data, dict) or data.get("format") != _CACHE_FORMAT:
            return cls(path)
        entries = data.get("entries")
        if not isinstance(entries, dict):
            return cls(path)
        return cls(path, entries)

    def lookup(self, file: SelectedFile) -> FileScan | None:
        entry = self.entries.get(file.path)
        if not (
            isinstance(entry, list)
            and len(entry) == 6
            and entry[0] == file.size
            and entry[1] == file.mtime_ns
            and entry[2] == file.ctime_ns
            and entry[3] == file.inode
        ):
            return None
        sha, markers = entry[4], entry[5]
        if not (isinstance(sha, str) and len(sha) == 64 and isinstance(markers, list)):
            return None
        if markers and not all(isinstance(m, str) for m in markers):
            return None
        return FileScan(sha, file.size, tuple(markers))

    def replace(self, entries: dict[str, list[Any]], *, grew: bool) -> None:
        """Take the new entries; unchanged ones are the very objects loaded, so comparing keys
        and whether anything was added is enough to know if a write is needed."""
        if grew or entries.keys() != self.entries.keys():
            self.dirty = True
        self.entries = entries

    def save(self) -> None:
        """Write temp + rename in the same folder; failures (read-only tree) are ignored."""
        if not self.dirty:
            return
        try:
            folder = self.path.parent
            created = not folder.exists()
            folder.mkdir(parents=True, exist_ok=True)
            if created:
                # odplan's working folder holds caches and archives, never anything to commit.
                (folder / ".gitignore").write_text("*\n", encoding="utf-8")
            payload = json.dumps(
                {"format": _CACHE_FORMAT, "entries": self.entries}, separators=(",", ":")
            )
            handle, temp = tempfile.mkstemp(dir=folder, prefix=".digest-cache-", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    stream.write(payload)
                os.replace(temp, self.path)
            except BaseException:
                os.unlink(temp)
                raise
        except OSError:
            return
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
    *,
    use_cache: bool = True,
    racy_window_ns: int = RACY_WINDOW_NS,
    workers: int | None = None,
) -> tuple[tuple[FileDigest, ...], int]:
    """Hash every selected file (cache first); return the file digests and the cache hit count."""
    started = time.time_ns()
    cache = DigestCache.load(selection.root) if use_cache else None
    lookup = cache.lookup if cache is not None else None
    old_entries = cache.entries if cache is not None else {}
    digests: list[FileDigest | None] = []
    entries: dict[str, list[Any]] = {}
    missing: list[int] = []
    for index, file in enumerate(selection.files):
        found = lookup(file) if lookup is not None else None
        if found is None:
            digests.append(None)
            missing.append(index)
        else:
            digests.append(FileDigest(file.path, file.mode, file.size, found.sha256, found.markers))
            entries[file.path] = old_entries[file.path]  # the loaded object: no rewrite
    fresh = scan_files([selection.files[i] for i in missing], workers or default_workers())
    for index, found in zip(missing, fresh, strict=True):
        file = selection.files[index]
        digests[index] = FileDigest(file.path, file.mode, found.size, found.sha256, found.markers)
        settled = max(file.mtime_ns, file.ctime_ns) < started - racy_window_ns
        if found.size == file.size and settled:
            entries[file.path] = [*_stat_key(file), found.sha256, list(found.markers)]
    if cache is not None:
        cache.replace(entries, grew=bool(fresh))
        cache.save()
    return tuple(d for d in digests if d is not None), len(selection.files) - len(missing)


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
    chosen = selection if selection is not None else select_files(base)
    check_service_subtrees(chosen, subpaths)
    files, hits = digest_selection(
        chosen, use_cache=use_cache, racy_window_ns=racy_window_ns, workers=workers
    )
    return SourceDigest(
        root=base,
        digest=subtree_digest(files, ""),
        services={name: subtree_digest(files, sub) for name, sub in subpaths.items()},
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
