"""The source room's errors: one rooted tree, each message fit to show a user as it is."""

from __future__ import annotations

from dataclasses import dataclass

from opendeploy_plan.errors import OdplanError


class SourceError(OdplanError):
    """Base of every error raised by `opendeploy_plan.source`; `str(error)` is the user message."""


class SourceOutsideRoot(SourceError, ValueError):
    """A service's `source` path leaves the manifest's folder, so it cannot be in the archive."""


@dataclass(frozen=True)
class MiningHit:
    """A crypto-mining marker found in a file (path relative to the scanned root)."""

    path: str
    marker: str


class MiningRefusal(SourceError):
    """The source contains crypto-mining markers: the platform's refusal checklist stops here."""

    def __init__(self, hits: list[MiningHit]) -> None:
        self.hits = hits
        first = hits[0]
        more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
        super().__init__(
            f"Refusing to deploy: {first.path} contains the crypto-mining marker "
            f"{first.marker!r}{more}, which opendeploy does not host."
        )


class UnsafeZipError(SourceError):
    """A user-supplied ZIP holds env/credential files (or unsafe paths) and was not approved."""

    def __init__(self, path: str, entries: list[str], *, reason: str) -> None:
        self.path = path
        self.entries = entries
        listing = "\n".join(f"  {entry}" for entry in entries)
        super().__init__(f"{path}: {reason}\n{listing}")


class SourceChangedError(SourceError):
    """A file changed while it was being read, so the archive would not match its digest."""
