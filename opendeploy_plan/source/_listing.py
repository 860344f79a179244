"""Folder listing cache: what the walk decided for a folder, reused while the folder is unchanged.

Like git's untracked cache. Adding, removing or renaming an entry changes the folder's own mtime
and ctime (POSIX), so a folder whose stat key (mtime_ns, ctime_ns, inode) and ignore rules are
unchanged has the same entries with the same verdicts: the walk can skip listing it and
evaluating rules, and only stats the files it selected (their content is the digest cache's
business). Ignore rules are keyed by content: a record also stores a fingerprint of every
`.gitignore`/`.odplanignore` in effect (ancestors included) and of odplan's built-in rules.

Only `odplan plan` (and other commands that upload nothing) reuse records. `odplan apply`
plans from a fresh walk and records it anew ("refresh"), and archives never touch the cache, so
a stale record (a file system whose folder timestamps do not move) can at worst make a plan
miss a change until the next apply; it can never change what is uploaded. Records are
checked on the way in (names must be plain, non-secret path components), folders changed
within the racy window are not recorded, and a folder holding a secret never is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from opendeploy_plan import __version__
from opendeploy_plan.source._cache import (
    CACHE_FOLDER,
    RACY_WINDOW_NS,
    is_settled,
    load_entries,
    save_entries,
    scan_started_ns,
)
from opendeploy_plan.source._rules import (
    ALWAYS_SKIPPED_NAMES,
    DEFAULT_IGNORE_PATTERNS,
    GITIGNORE,
    ODPLANIGNORE,
    SECRET_FILE_PATTERNS,
    any_secret_name,
)

LISTING_FILE: Final = "source-listing-cache.json"
_FORMAT: Final = "odplan-source-listing-cache/1"
# odplan's own rules and version are part of every fingerprint: a release starts afresh, even
# one that only changes how patterns are matched.
RULES_SEED: Final = hashlib.sha256(
    repr(
        (
            _FORMAT,
            __version__,
            SECRET_FILE_PATTERNS,
            DEFAULT_IGNORE_PATTERNS,
            sorted(ALWAYS_SKIPPED_NAMES),
        )
    ).encode("utf-8")
).hexdigest()
_NOT_A_NAME: Final = frozenset({"", ".", "..", *ALWAYS_SKIPPED_NAMES})
_RULE_FILES: Final = frozenset({GITIGNORE, ODPLANIGNORE})


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
Listings = Literal["off", "reuse", "refresh"]


def _plausible(names: list[Any]) -> bool:
    """Names a real listing could have recorded: text, single path components in UTF-8,
    neither odplan's skipped folders nor secrets. A corrupt or forged record fails here and
    its folder is listed afresh."""
    try:
        joined = "".join(names)  # TypeError for anything that is not text
        joined.encode("utf-8")
    except (TypeError, UnicodeEncodeError):
        return False
    if "/" in joined or "\0" in joined or not _NOT_A_NAME.isdisjoint(names):
        return False
    return not any_secret_name(names)


class ListingCache:
    """Records keyed by root-relative folder prefix (`` for the root, `src/` below it):
    `[mtime_ns, ctime_ns, inode, rules fingerprint, files, dirs, links, specials, rule files]`.
    Only folders visited by this walk are written back. With `reuse=False` nothing is recalled
    (a fresh walk) but every folder is recorded anew: how apply's walk refreshes the cache."""

    def __init__(
        self, root: Path, *, reuse: bool = True, racy_window_ns: int = RACY_WINDOW_NS
    ) -> None:
        self.path = root / CACHE_FOLDER / LISTING_FILE
        # Creates the cache folder before the walk: creating it afterwards would move the
        # root's own mtime and make the next walk list the root again.
        self.started_ns = scan_started_ns(self.path.parent)
        self.racy_window_ns = racy_window_ns
        self._reuse = reuse
        # Loaded in both modes: a refresh must also replace records it no longer makes.
        self._old = load_entries(self.path, _FORMAT)
        self._new: dict[str, Any] = {}

    def recall(self, prefix: str, key: FolderKey) -> tuple[str, FolderListing] | None:
        """The recorded (rules fingerprint, listing) when the folder's stat key is unchanged."""
        record = self._old.get(prefix) if self._reuse else None
        if not (type(record) is list and len(record) == 9 and record[:3] == list(key)):
            return None
        fingerprint, files, dirs, links, specials, rule_files = record[3:]
        if not (
            type(fingerprint) is str
            and type(files) is type(dirs) is type(links) is type(specials) is list
            and type(rule_files) is list
            and all(type(name) is str and name in _RULE_FILES for name in rule_files)
            and _plausible([*files, *dirs, *links, *specials])
        ):
            return None
        parts = (files, dirs, links, specials, rule_files)
        return fingerprint, FolderListing(*(tuple(names) for names in parts))

    def keep(self, prefix: str) -> None:
        """The recalled record was valid and used: carry it over unchanged."""
        self._new[prefix] = self._old[prefix]

    def discard(self, prefix: str) -> None:
        """Do not write this folder's record (it holds a file held back as a secret)."""
        self._new.pop(prefix, None)

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
