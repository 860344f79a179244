"""Folder listing cache: what the walk decided for a folder, reused while the folder is unchanged.

Like git's untracked cache. Adding, removing or renaming an entry changes the folder's own mtime
and ctime (POSIX), so a folder whose stat key (mtime_ns, ctime_ns, inode) and ignore rules are
unchanged has the same entries with the same verdicts: the walk can skip listing it and
evaluating rules, and only stats the files it selected (their content is the digest cache's
business). Ignore rules are keyed by content: a record also stores a fingerprint of every
`.gitignore`/`.odplanignore` in effect (ancestors included) and of odplan's built-in rules.

What it can get wrong is bounded: names come only from a real listing, and the secret and skip
rules were applied when that listing was taken, so a stale record can miss a new file, never
select a secret. Folders changed within the racy window are not recorded, and uploads
(`odplan apply`, `odplan package`) always walk the tree afresh; apply compares that walk's
digest with the planned one and, on a difference, drops this cache (`forget_listings`).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from opendeploy_plan.platform import SECRET_FILE_PATTERNS
from opendeploy_plan.source._cache import (
    CACHE_FOLDER,
    RACY_WINDOW_NS,
    is_settled,
    load_entries,
    prepare_folder,
    save_entries,
)
from opendeploy_plan.source._rules import ALWAYS_SKIPPED_NAMES, DEFAULT_IGNORE_PATTERNS

LISTING_FILE: Final = "source-listing-cache.json"
_FORMAT: Final = "odplan-source-listing-cache/1"
# odplan's own rules are part of every fingerprint: a release that changes them starts afresh.
RULES_SEED: Final = hashlib.sha256(
    repr(
        (_FORMAT, SECRET_FILE_PATTERNS, DEFAULT_IGNORE_PATTERNS, sorted(ALWAYS_SKIPPED_NAMES))
    ).encode("utf-8")
).hexdigest()


def chain_rules(fingerprint: str, name: str, text: str | None) -> str:
    """The fingerprint after one more ignore file (`text` None: present but unreadable)."""
    body = f"{fingerprint}\0{name}\0{'-' if text is None else '+' + text}"
    return hashlib.sha256(body.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class FolderListing:
    """One folder's own entries by verdict (names, not paths). `rule_files` are the ignore
    files present in it; `specials` are fifos, sockets and devices (warned about each time).
    There is no list of secrets: a folder holding one is never recorded (see `store`)."""

    files: tuple[str, ...] = ()
    dirs: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    specials: tuple[str, ...] = ()
    rule_files: tuple[str, ...] = ()


FolderKey = tuple[int, int, int]


def _names(value: Any) -> tuple[str, ...] | None:
    if type(value) is not list or (value and set(map(type, value)) != {str}):
        return None
    return tuple(value)


class ListingCache:
    """Records keyed by root-relative folder prefix (`` for the root, `src/` below it):
    `[mtime_ns, ctime_ns, inode, rules fingerprint, files, dirs, links, specials, rule files]`.
    Only folders visited by this walk are written back."""

    def __init__(
        self, root: Path, *, started_ns: int, racy_window_ns: int = RACY_WINDOW_NS
    ) -> None:
        self.path = root / CACHE_FOLDER / LISTING_FILE
        # Created before the walk: creating it afterwards would move the root's own mtime and
        # make the next walk list the root again.
        with contextlib.suppress(OSError):
            prepare_folder(self.path.parent)
        self.started_ns = started_ns
        self.racy_window_ns = racy_window_ns
        self._old = load_entries(self.path, _FORMAT)
        self._new: dict[str, Any] = {}
        self.hits = 0

    def recall(self, prefix: str, key: FolderKey) -> tuple[str, FolderListing] | None:
        """The recorded (rules fingerprint, listing) when the folder's stat key is unchanged."""
        record = self._old.get(prefix)
        if not (type(record) is list and len(record) == 9 and record[:3] == list(key)):
            return None
        fingerprint = record[3]
        parts = [_names(value) for value in record[4:]]
        if type(fingerprint) is not str or any(part is None for part in parts):
            return None
        files, dirs, links, specials, rule_files = (part or () for part in parts)
        return fingerprint, FolderListing(files, dirs, links, specials, rule_files)

    def keep(self, prefix: str) -> None:
        """The recalled record was valid and used: carry it over unchanged."""
        self._new[prefix] = self._old[prefix]
        self.hits += 1

    def store(self, prefix: str, key: FolderKey, fingerprint: str, listing: FolderListing) -> None:
        """Record a fresh listing, unless the folder changed too recently to be trusted.

        The walk does not offer folders holding a secret file or an entry it could not decide
        (unreadable, not UTF-8): those are listed afresh every time, so the cache never names
        a secret and a folder with a problem is looked at again."""
        mtime_ns, ctime_ns, _ = key
        if not is_settled(mtime_ns, ctime_ns, self.started_ns, self.racy_window_ns):
            return
        fields: Iterable[tuple[str, ...]] = (
            listing.files,
            listing.dirs,
            listing.links,
            listing.specials,
            listing.rule_files,
        )
        self._new[prefix] = [*key, fingerprint, *(sorted(names) for names in fields)]

    def save(self) -> None:
        """Write when anything differs from what was loaded (failures are ignored)."""
        if self._new != self._old:
            save_entries(self.path, _FORMAT, self._new)


def forget_listings(root: Path) -> None:
    """Delete the listing cache, so the next walk lists every folder (a file system whose
    folder timestamps did not move must not keep a plan stale)."""
    (root / CACHE_FOLDER / LISTING_FILE).unlink(missing_ok=True)
