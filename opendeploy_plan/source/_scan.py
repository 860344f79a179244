"""One pass over a file's bytes: its SHA-256, the crypto-mining markers it contains, and
whether its first MiB holds a credential (a PEM private key, a service-account key).

The marker search and the credential check share the read with the hash, so refusing miners
and holding keys back cost no extra I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import IO, Final, NamedTuple

from opendeploy_plan.platform import MINING_MARKERS

CHUNK_SIZE: Final = 1 << 20
_MIN_PROBE: Final = 4


def _probes(markers: Iterable[str]) -> dict[bytes, tuple[bytes, ...]]:
    """Group markers under a shared suffix ("miner" serves ethminer, cgminer, gminer, lolminer)
    so each chunk is searched once per probe instead of once per marker."""
    lowered = sorted({m.lower().encode() for m in markers})
    groups: dict[bytes, list[bytes]] = {}
    for marker in lowered:
        best = marker
        for other in lowered:
            if other == marker:
                continue
            shared = 0
            while (
                shared < min(len(marker), len(other)) and marker[-1 - shared] == other[-1 - shared]
            ):
                shared += 1
            if shared >= _MIN_PROBE and shared < len(best):
                best = marker[-shared:]
        groups.setdefault(best, []).append(marker)
    return {probe: tuple(members) for probe, members in groups.items()}


_PROBES: Final = _probes(MINING_MARKERS)
_MARKER_NAMES: Final = {m.lower().encode(): m for m in MINING_MARKERS}
_OVERLAP: Final = max(len(m) for m in _MARKER_NAMES) - 1


class MarkerScanner:
    """Finds mining markers, case-insensitively, across chunk boundaries."""

    def __init__(self) -> None:
        self.found: set[str] = set()
        self._tail = b""

    def _search(self, data: bytes) -> None:
        for probe, members in _PROBES.items():
            start = data.find(probe)
            while start != -1:
                end = start + len(probe)
                for marker in members:
                    if end >= len(marker) and data[end - len(marker) : end] == marker:
                        self.found.add(_MARKER_NAMES[marker])
                start = data.find(probe, start + 1)

    def feed(self, chunk: bytes) -> None:
        lowered = chunk.lower()
        if self._tail:
            self._search(self._tail + lowered[:_OVERLAP])
        self._search(lowered)
        # A tiny chunk may not cover the overlap on its own: keep bytes from before it too.
        joined = self._tail + lowered if len(lowered) < _OVERLAP else lowered
        self._tail = joined[-_OVERLAP:]


# The credential check reads this much of each file (bounded: a key sits at the top of the file
# that holds it; a 2 GiB file is not searched end to end).
SECRET_SCAN_BYTES: Final = 1 << 20
_PEM_KEY: Final = re.compile(rb"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----")
_SERVICE_ACCOUNT: Final = re.compile(rb'"type"\s*:\s*"service_account"')
_AWS_SECRET: Final = re.compile(rb"(?im)^[ \t]*aws_secret_access_key[ \t]*=[ \t]*[A-Za-z0-9/+]{20}")
_BASE64_RUN: Final = re.compile(rb"[A-Za-z0-9+/=]{40,}")


def secret_content(head: bytes) -> str | None:
    """What credential the start of a file holds, as a short reason, or None.

    A PEM header counts only when key material follows it (a run of base64, possibly behind
    `\\n` escapes as in JSON): a README that shows the header line alone is not a key."""
    if (
        b"PRIVATE KEY" not in head
        and b"_secret_access_key" not in head
        and b"_SECRET_ACCESS_KEY" not in head
    ):
        return None  # the common case: three plain substring searches, no regex
    for match in _PEM_KEY.finditer(head):
        following = head[match.end() : match.end() + 600].replace(b"\\n", b"\n")
        if _BASE64_RUN.search(following):
            if _SERVICE_ACCOUNT.search(head):
                return 'holds a service-account key ("type": "service_account")'
            kind = match.group(1).decode("ascii", "replace").strip()
            return f"holds a PEM private key ({kind + ' ' if kind else ''}PRIVATE KEY)"
    if _AWS_SECRET.search(head):
        return "holds AWS credentials (aws_secret_access_key)"
    return None


class HeadKeeper:
    """Keeps a stream's first `SECRET_SCAN_BYTES` bytes for `secret_content`."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._kept = 0

    def feed(self, chunk: bytes) -> None:
        if self._kept < SECRET_SCAN_BYTES:
            piece = chunk[: SECRET_SCAN_BYTES - self._kept]
            self._parts.append(piece)
            self._kept += len(piece)

    def secret(self) -> str | None:
        return secret_content(b"".join(self._parts))


class FileScan(NamedTuple):
    """SHA-256 (hex) of a file's bytes, how many bytes were read, the markers seen, and the
    credential its first MiB holds (a reason, or None)."""

    sha256: str
    size: int
    markers: tuple[str, ...]
    secret: str | None = None


def scan_stream(stream: IO[bytes], chunk_size: int = CHUNK_SIZE) -> FileScan:
    """Hash, marker-scan and credential-check a binary stream to its end."""
    digest = hashlib.sha256()
    scanner = MarkerScanner()
    head = HeadKeeper()
    size = 0
    while chunk := stream.read(chunk_size):
        digest.update(chunk)
        scanner.feed(chunk)
        head.feed(chunk)
        size += len(chunk)
        chunk_size = max(chunk_size, CHUNK_SIZE)
    return FileScan(digest.hexdigest(), size, tuple(sorted(scanner.found)), head.secret())


def scan_file(path: str, size_hint: int = CHUNK_SIZE) -> FileScan:
    """Hash and marker-scan one file; `size_hint` (its stat size) sizes the first read, so a
    small file costs one small allocation instead of a chunk-sized one."""
    with open(path, "rb", buffering=0) as stream:
        return scan_stream(stream, min(CHUNK_SIZE, size_hint + 1))
