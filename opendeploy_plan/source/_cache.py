"""odplan's cache files under `.opendeploy/`: versioned JSON, read leniently, written atomically;
and what the warm path (answering from them) needs to stay cheap.

Both source caches (folder listings, file hashes) only save work: a missing, unreadable, malformed
or foreign-format file is treated as empty, and a failed write (read-only tree) is ignored.
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from opendeploy_plan.fsutil import write_atomic

CACHE_FOLDER: Final = ".opendeploy"
# Entries whose mtime or ctime is this close to the scan's start are not cached: an edit inside
# the file system's timestamp granularity (2 s on FAT, 1 s on HFS+, a clock tick on Linux) could
# otherwise keep an identical stat ("racily clean" in git's terms).
RACY_WINDOW_NS: Final = 2_000_000_000


def load_document(path: Path, form: str) -> dict[str, Any]:
    """A cache file in format `form` as a JSON object, or {} for anything else (including a
    cache folder that is a symlink: it could lead anywhere)."""
    if path.parent.is_symlink():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        return {}
    return data if isinstance(data, dict) and data.get("format") == form else {}


def load_entries(path: Path, form: str) -> dict[str, Any]:
    """The `entries` object of a cache file in format `form`, or {}."""
    entries = load_document(path, form).get("entries")
    return entries if isinstance(entries, dict) else {}


def save_entries(
    path: Path, form: str, entries: dict[str, Any], extra: dict[str, Any] | None = None
) -> bool:
    """Write temp + rename in the same folder; return False when the tree is not writable.

    The folder is created with a `.gitignore` of `*` (`prepare_folder`): it holds caches and
    archives, never anything to commit.
    """
    try:
        folder = path.parent
        prepare_folder(folder)
        document = {"format": form, "entries": entries, **(extra or {})}
        payload = json.dumps(document, separators=(",", ":"))
        write_atomic(path, payload)
    except OSError:
        return False
    return True


def prepare_folder(folder: Path) -> None:
    """Create the cache folder (with its `.gitignore` of `*`) if missing; raises OSError,
    also when it is a symlink (odplan never writes through one, out of the project)."""
    if folder.is_symlink():
        raise OSError(f"{folder} is a symlink")
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".gitignore").write_text("*\n", encoding="utf-8")


_CLOCK_FILE: Final = ".clock"


def scan_started_ns(folder: Path) -> int:
    """The start of a scan for the racy-window rule: the earlier of this machine's clock and
    the file system's own (a file in the cache folder is touched and read back). A network
    file system whose server clock is behind would otherwise make a change just made look
    settled. Falls back to this machine's clock when the folder is not writable."""
    now = time.time_ns()
    clock = folder / _CLOCK_FILE
    try:
        prepare_folder(folder)
        clock.touch()
        os.utime(clock)  # "now" as the file system sets it (server time on NFS)
        return min(now, clock.stat().st_mtime_ns)
    except OSError:
        return now


def is_settled(mtime_ns: int, ctime_ns: int, started_ns: int, racy_window_ns: int) -> bool:
    """True when nothing changed the entry within the racy window before the scan started."""
    return max(mtime_ns, ctime_ns) < started_ns - racy_window_ns


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one walk or digest pass.

    A pass allocates tens of thousands of small acyclic objects (stat results, tuples, the
    cache's JSON lists), which triggers repeated collections of the whole heap; none of it can
    form a cycle. Pausing saves a few percent of a warm 10,000-file digest (benchmarks/source.py),
    more in a process holding the CLI's imports, whose full collections cost more.
    Nested use is harmless: only the outermost pause re-enables.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
