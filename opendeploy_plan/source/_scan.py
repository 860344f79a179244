"""One pass over a file's bytes: its SHA-256 and the crypto-mining markers it contains.

The marker search shares the read with the hash, so refusing miners costs no extra I/O.
"""

from __future__ import annotations

import hashlib
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


class FileScan(NamedTuple):
    """SHA-256 (hex) of a file's bytes, how many bytes were read, and the markers seen."""

    sha256: str
    size: int
    markers: tuple[str, ...]


def scan_stream(stream: IO[bytes], chunk_size: int = CHUNK_SIZE) -> FileScan:
    """Hash and marker-scan a binary stream to its end."""
    digest = hashlib.sha256()
    scanner = MarkerScanner()
    size = 0
    while chunk := stream.read(chunk_size):
        digest.update(chunk)
        scanner.feed(chunk)
        size += len(chunk)
        chunk_size = max(chunk_size, CHUNK_SIZE)
    return FileScan(digest.hexdigest(), size, tuple(sorted(scanner.found)))


def scan_file(path: str, size_hint: int = CHUNK_SIZE) -> FileScan:
    """Hash and marker-scan one file; `size_hint` (its stat size) sizes the first read, so a
    small file costs one small allocation instead of a chunk-sized one."""
    with open(path, "rb", buffering=0) as stream:
        return scan_stream(stream, min(CHUNK_SIZE, size_hint + 1))
