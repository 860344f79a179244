"""Owner-only files and folders: one atomic writer and one private-folder helper for odplan.

Saved plans, credentials and caches describe infrastructure or hold secrets, so they are written
owner-only and atomically: a reader sees the old file or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["ensure_private_dir", "write_atomic"]

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def write_atomic(path: Path, data: bytes | str, mode: int = PRIVATE_FILE_MODE) -> None:
    """Replace `path` with `data` (text is written as UTF-8), leaving it with `mode`.

    The temporary file sits in the same folder (so `os.replace` is a rename, atomic on POSIX)
    under a unique name (so concurrent writers never share one), is flushed to disk before the
    rename, and is removed again when anything fails. Its mode is set explicitly, whatever the
    umask or any leftover file, before the data goes in.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), mode)
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def ensure_private_dir(directory: Path, *, tighten_existing: bool = True) -> None:
    """Create `directory` (and its parents) readable by the owner only (0700).

    A folder that already exists is made 0700 too, unless `tighten_existing` is False (the audit
    log, like the skill, leaves a folder the user made alone).
    """
    existed = directory.is_dir()
    old_umask = os.umask(0o077)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    finally:
        os.umask(old_umask)
    if existed and not tighten_existing:
        return
    if stat.S_IMODE(directory.stat().st_mode) != PRIVATE_DIR_MODE:
        directory.chmod(PRIVATE_DIR_MODE)
