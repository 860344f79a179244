"""The upload archive: a deterministic ZIP streamed to a file, and checks of user-supplied ZIPs.

The same selected tree gives the same bytes on any machine with the same zlib: entries sorted
by path, fixed timestamps, normalized modes, no directory entries, no extra fields.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from opendeploy_plan.source._digest import FileDigest, subtree_digest, tree_digest
from opendeploy_plan.source._errors import (
    MiningHit,
    MiningRefusal,
    SourceChangedError,
    SourceError,
    UnsafeZipError,
)
from opendeploy_plan.source._rules import secret_path_pattern
from opendeploy_plan.source._scan import (
    CHUNK_SIZE,
    SECRET_SCAN_BYTES,
    MarkerScanner,
    scan_stream,
    secret_content,
)
from opendeploy_plan.source._select import (
    REGULAR_MODE,
    Selection,
    check_service_subtrees,
    normalized_mode,
    select_files,
    service_subpaths,
)

ZIP_EPOCH: Final = (1980, 1, 1, 0, 0, 0)
UPLOAD_FILENAME: Final = "source.zip"
UPLOAD_CONTENT_TYPE: Final = "application/zip"
# Already-compressed formats are stored: deflating them again costs time and saves nothing.
STORED_SUFFIXES: Final = frozenset(
    ".zip .gz .tgz .bz2 .xz .zst .7z .rar .jar .war .whl .png .jpg .jpeg .gif .webp .avif "
    ".ico .woff .woff2 .mp3 .mp4 .mov .webm .ogg .pdf".split()
)


@dataclass(frozen=True)
class ArchiveInfo:
    """A written archive: where, how big, the SHA-256 of its bytes, the `odsrc1:` digest of its
    entries (equal to `digest_zip(path)`), and each service's subtree digest."""

    path: Path
    size: int
    sha256: str
    digest: str
    services: Mapping[str, str]
    file_count: int
    selection: Selection

    def open_for_upload(self) -> BinaryIO:
        """A binary file object for streaming the upload (httpx reads it in chunks)."""
        return open(self.path, "rb")

    @contextlib.contextmanager
    def multipart_file(self) -> Iterator[tuple[str, BinaryIO, str]]:
        """`files={"project_file": part}` for httpx, closed when the block ends."""
        with self.open_for_upload() as stream:
            yield (UPLOAD_FILENAME, stream, UPLOAD_CONTENT_TYPE)


def _entry_info(path: str, mode: int, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=ZIP_EPOCH)
    info.create_system = 3  # unix, so extractors honour the mode bits
    info.external_attr = mode << 16
    info.file_size = size
    suffix = os.path.splitext(path)[1].lower()
    info.compress_type = zipfile.ZIP_STORED if suffix in STORED_SUFFIXES else zipfile.ZIP_DEFLATED
    return info


def _read_head(source: BinaryIO) -> bytes:
    """The first `SECRET_SCAN_BYTES` of a file (fewer only at its end)."""
    parts: list[bytes] = []
    wanted = SECRET_SCAN_BYTES
    while wanted and (piece := source.read(wanted)):
        parts.append(piece)
        wanted -= len(piece)
    return b"".join(parts)


def _write_entries(
    zf: zipfile.ZipFile, selection: Selection
) -> tuple[list[FileDigest], dict[str, str]]:
    """Stream every selected file into the archive; a file whose first MiB holds a credential
    (the digest pass holds back the same files) is skipped and returned with its reason."""
    written: list[FileDigest] = []
    held: dict[str, str] = {}
    for file in selection.files:
        info = _entry_info(file.path, file.mode, file.size)
        digest = hashlib.sha256()
        scanner = MarkerScanner()
        size = 0
        try:
            with open(file.source, "rb", buffering=0) as source:
                head = _read_head(source)
                secret = secret_content(head)
                if secret is not None:
                    held[file.path] = secret
                    continue
                digest.update(head)
                scanner.feed(head)
                size += len(head)
                with zf.open(info, "w") as target:
                    target.write(head)
                    while chunk := source.read(CHUNK_SIZE):
                        digest.update(chunk)
                        scanner.feed(chunk)
                        target.write(chunk)
                        size += len(chunk)
        except FileNotFoundError as exc:
            raise SourceChangedError(
                f"{file.path} disappeared while packaging; run the command again"
            ) from exc
        except OSError as exc:
            raise SourceError(f"{file.path}: cannot read ({exc.strerror})") from exc
        written.append(
            FileDigest(file.path, file.mode, size, digest.hexdigest(), tuple(sorted(scanner.found)))
        )
    return written, held


def build_archive(
    root: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    services: Mapping[str, str] | None = None,
    *,
    selection: Selection | None = None,
) -> ArchiveInfo:
    """Write the project's source archive to `dest` (temp file + rename, streamed, never held
    in memory) and return its digests, computed from the bytes actually written.

    Raises MiningRefusal (nothing is left at `dest`) or SourceError.
    """
    base = Path(root).absolute()
    subpaths = service_subpaths(base, services or {})
    chosen = selection if selection is not None else select_files(base)
    check_service_subtrees(chosen, subpaths)
    target = Path(dest).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with (
            os.fdopen(handle, "w+b") as stream,
            zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as zf,
        ):
            files, held = _write_entries(zf, chosen)
        hits = [MiningHit(f.path, m) for f in files for m in f.markers]
        if hits:
            raise MiningRefusal(hits)
        with open(temp, "rb") as written:
            sha = hashlib.file_digest(written, "sha256").hexdigest()
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    if held:
        chosen = chosen.holding_back(held)
    return ArchiveInfo(
        path=target,
        size=target.stat().st_size,
        sha256=sha,
        digest=subtree_digest(files, ""),
        services={name: subtree_digest(files, sub) for name, sub in subpaths.items()},
        file_count=len(files),
        selection=chosen,
    )


@contextlib.contextmanager
def temporary_archive(
    root: str | os.PathLike[str], services: Mapping[str, str] | None = None
) -> Iterator[ArchiveInfo]:
    """Build the archive in a private temporary folder, removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="odplan-source-") as folder:
        yield build_archive(root, Path(folder) / UPLOAD_FILENAME, services)


def _entry_mode(info: zipfile.ZipInfo) -> int:
    unix = info.external_attr >> 16
    if info.create_system != 3 or not unix:
        return REGULAR_MODE
    if stat.S_ISLNK(unix):
        return stat.S_IFLNK
    return normalized_mode(unix)


def _unsafe_name(name: str) -> bool:
    """Absolute paths, drive letters and `..` would extract outside the target folder."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts


def _open_zip(path: str | os.PathLike[str]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise SourceError(f"{path}: no such file") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(
            f"{path}: not a readable ZIP archive ({exc}); the platform accepts ZIP only"
        ) from exc


@dataclass(frozen=True)
class ZipInspection:
    """What a ZIP holds: its file entries, env/credential entries, entries that would extract
    outside the target folder, mining markers, and the `odsrc1:` digest of its entries."""

    path: str
    entries: tuple[str, ...]
    secrets: tuple[str, ...]
    unsafe_paths: tuple[str, ...]
    mining: tuple[MiningHit, ...]
    digest: str


def inspect_zip(path: str | os.PathLike[str]) -> ZipInspection:
    """Read every entry of a ZIP once: names checked against the secret-file patterns (a
    superset of the skill's awk filter in deploy.md step 4.a), bytes hashed and marker-scanned.
    """
    names: list[str] = []
    records: list[tuple[str, int, str]] = []
    secrets: list[str] = []
    unsafe: list[str] = []
    hits: list[MiningHit] = []
    seen: set[str] = set()
    with _open_zip(path) as zf:
        for info in zf.infolist():
            name = info.filename
            if _unsafe_name(name):
                unsafe.append(name)
            named_secret = secret_path_pattern(name.replace("\\", "/")) is not None
            if named_secret:
                secrets.append(name)
            if info.is_dir():
                continue
            if name in seen:
                unsafe.append(name)
                continue
            seen.add(name)
            names.append(name)
            try:
                with zf.open(info) as stream:
                    scan = scan_stream(stream)
            except (zipfile.BadZipFile, OSError, NotImplementedError) as exc:
                raise SourceError(f"{path}: entry {name} cannot be read ({exc})") from exc
            if scan.secret is not None and not named_secret:
                secrets.append(name)
            records.append((name, _entry_mode(info), scan.sha256))
            hits.extend(MiningHit(name, marker) for marker in scan.markers)
    return ZipInspection(
        path=str(path),
        entries=tuple(sorted(names)),
        secrets=tuple(sorted(set(secrets))),
        unsafe_paths=tuple(sorted(set(unsafe))),
        mining=tuple(hits),
        digest=tree_digest(records),
    )


def check_user_zip(path: str | os.PathLike[str], *, allow_secrets: bool = False) -> ZipInspection:
    """Inspect a user-supplied ZIP and refuse it as the skill does before upload.

    Raises UnsafeZipError for unsafe or duplicate paths (always) and for env/credential files
    (unless `allow_secrets`, the user's explicit approval), MiningRefusal for mining markers.
    """
    found = inspect_zip(path)
    if found.unsafe_paths:
        raise UnsafeZipError(
            str(path),
            list(found.unsafe_paths),
            reason="ZIP has entries that would extract outside the project folder "
            "(absolute, '..' or duplicate paths). Rebuild the ZIP from the project folder.",
        )
    if found.secrets and not allow_secrets:
        raise UnsafeZipError(
            str(path),
            list(found.secrets),
            reason="ZIP contains env or credential files. Provide a sanitized ZIP or "
            "explicitly approve uploading these files.",
        )
    if found.mining:
        raise MiningRefusal(list(found.mining))
    return found


def digest_zip(path: str | os.PathLike[str]) -> str:
    """The `odsrc1:` digest of a ZIP's file entries; equals the digest of the tree it was built
    from when odplan built it. Directory entries are ignored, as empty folders are by git."""
    return inspect_zip(path).digest
