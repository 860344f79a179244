"""Times as the gateway writes them (RFC 3339 text), read as times so they sort as times."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["parse_timestamp", "timestamp_order"]

# Where a row without a readable time sorts: before every other.
_EARLIEST = datetime.min.replace(tzinfo=UTC)


def parse_timestamp(value: object) -> datetime | None:
    """An RFC 3339 / ISO 8601 time as an aware datetime (naive times are UTC); None when empty
    or unreadable. Times are compared as times, never as text: `2026-01-01T10:00:00+02:00` is
    before `2026-01-01T09:00:00Z`, and a `.5` fraction does not sort after `Z`."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def timestamp_order(value: object) -> datetime:
    """A sort key for a time as the gateway gives it: unreadable times sort first."""
    return parse_timestamp(value) or _EARLIEST
