"""Checks on the selected files after the walk: names that may not leave the machine as they
are (and names made safe to print), hard links to secrets, and files too large to be source.

A ZIP entry name is only text: `back\\..\\..\\evil.txt` is one file name here but a path that
climbs out of the project for an extractor that reads `\\` as a separator, and a newline or a
bidi control in a name forges or reorders the lines of a listing. Such names are refused before
anything is packed (the user renames the file or ignores it); every name odplan prints goes
through `shown_path`.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from opendeploy_plan.source._errors import SourceError

# A file this large is probably not source (a database dump, a disk image, a sparse file):
# it is still uploaded, with a warning naming it.
LARGE_FILE_BYTES: Final = 100 * 1024 * 1024

# Bidirectional formatting characters (Unicode TR9): they reorder how the rest of a line reads.
BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def unsafe_name_reason(path: str) -> str | None:
    """Why a root-relative POSIX path may not be uploaded as an archive entry, or None."""
    if "\\" in path:
        return "a backslash, which Windows tools and some extractors read as a folder separator"
    for char in path:
        if char in BIDI_CONTROLS:
            return f"the bidirectional control U+{ord(char):04X}, which reorders displayed text"
        if unicodedata.category(char) == "Cc":
            return f"the control character U+{ord(char):04X}"
    return None


def shown_path(path: str) -> str:
    """`path` with control, bidi and other invisible format characters escaped (`\\n`,
    `\\u202e`), so one name prints as one line that reads as it is stored."""
    if path.isprintable() and path.isascii():
        return path
    out: list[str] = []
    for char in path:
        if char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def refuse_unsafe_names(paths: Iterable[str]) -> None:
    """Raise SourceError naming every selected file whose name cannot travel safely."""
    unsafe = [(path, reason) for path in paths if (reason := unsafe_name_reason(path))]
    if not unsafe:
        return
    lines = "\n".join(f"  {shown_path(path)}: contains {reason}" for path, reason in unsafe[:20])
    more = f"\n  … and {len(unsafe) - 20} more" if len(unsafe) > 20 else ""
    plural = len(unsafe) > 1
    raise SourceError(
        f"refusing to upload {len(unsafe)} file{'s' if plural else ''} whose "
        f"name{'s are' if plural else ' is'} unsafe in an archive:\n{lines}{more}\n"
        "Rename them, or list them in .odplanignore."
    )


def hard_links_to_secrets(
    candidates: Mapping[str, tuple[str, int]], root: Path, secrets: Iterable[str]
) -> dict[str, str]:
    """Selected files (`path -> (source, inode)`) that are hard links to a file kept home as
    a secret (`ln .env notes.txt`): the same bytes under an innocent name. Compared by device
    and inode; returns `path -> reason`."""
    by_inode: dict[int, list[str]] = {}
    for path, (_, inode) in candidates.items():
        by_inode.setdefault(inode, []).append(path)
    linked: dict[str, str] = {}
    for secret in sorted(secrets):
        if secret in candidates:
            continue
        try:
            info = os.lstat(root / secret)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_nlink < 2:
            continue
        for path in by_inode.get(info.st_ino, ()):
            try:
                same = os.lstat(candidates[path][0]).st_dev == info.st_dev
            except OSError:
                continue
            if same and path not in secrets:
                linked[path] = f"hard link to {secret}"
    return linked


def _size(size: int) -> str:
    return f"{size / (1 << 30):.1f} GiB" if size >= 1 << 30 else f"{size >> 20} MiB"


def large_files(files: Iterable[tuple[str, str, int]]) -> list[tuple[str, str]]:
    """`(path, warning)` for each `(path, source, size)` of at least `LARGE_FILE_BYTES`."""
    found: list[tuple[str, str]] = []
    for path, source, size in files:
        if size < LARGE_FILE_BYTES:
            continue
        try:
            sparse = os.lstat(source).st_blocks * 512 < size // 2
        except (OSError, AttributeError):
            sparse = False
        found.append(
            (
                path,
                f"large file ({_size(size)}"
                + (", sparse: mostly holes on disk" if sparse else "")
                + ") will be uploaded; list it in .odplanignore if it is not source",
            )
        )
    return found
