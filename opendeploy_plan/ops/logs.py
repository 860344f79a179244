"""Log lines for `odplan logs`: parsing `--since`, filtering, formatting and following.

The gateway answers log rows as `{timestamp, level, phase, message}` objects (plain strings
are accepted too); SSE streams send one `log` event per row and an `end` event last.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opendeploy_plan.gateway import GatewayClient

_DURATION_RE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RUNTIME_POLL_SECONDS = 2.0


def parse_since(text: str, now: datetime | None = None) -> str:
    """`--since` as the RFC 3339 UTC time the gateway takes: `10m`, `2h`, `1d`, `30s`, or a
    timestamp (`2026-11-29T12:00:00Z`). ValueError otherwise."""
    now = now or datetime.now(UTC)
    match = _DURATION_RE.match(text.strip())
    if match:
        moment = now - timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    else:
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{text!r} is neither a duration (30s, 10m, 2h, 1d) nor an RFC 3339 time"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(row: Any) -> datetime | None:
    if not isinstance(row, dict):
        return None
    text = str(row.get("timestamp") or row.get("ts") or row.get("time") or "")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def select(rows: Sequence[Any], *, tail: int | None = None, since: str | None = None) -> list[Any]:
    """Rows after `since` (rows without a time are kept), then the last `tail` of them."""
    kept = list(rows)
    if since is not None:
        limit = datetime.fromisoformat(since.replace("Z", "+00:00"))
        kept = [r for r in kept if (moment := _timestamp(r)) is None or moment > limit]
    if tail is not None:
        kept = kept[-tail:] if tail else []
    return kept


def format_row(row: Any) -> str:
    """`<timestamp> <level> [<phase>] <message>`; strings as they are; anything else as JSON."""
    if isinstance(row, str):
        return row
    if isinstance(row, dict) and "message" in row:
        head = " ".join(
            str(part)
            for part in (row.get("timestamp", ""), str(row.get("level", "")).ljust(5))
            if part
        )
        phase = f"[{row['phase']}] " if row.get("phase") else ""
        return f"{head} {phase}{row['message']}".strip()
    return json.dumps(row, sort_keys=True)


@dataclass(frozen=True)
class StreamEnd:
    """How a followed deployment stream ended: the status the `end` event named, if any."""

    status: str | None


async def follow_deployment(
    client: GatewayClient,
    deployment_id: str,
    emit: Callable[[str], None],
    *,
    since: str | None = None,
) -> StreamEnd:
    """Print the deployment's log stream until the gateway ends it (SSE `end` or close)."""
    async for event in client.stream_deployment_logs(deployment_id):
        try:
            payload: Any = json.loads(event.data)
        except ValueError:
            payload = event.data
        if event.event == "end":
            status = payload.get("status") if isinstance(payload, dict) else None
            return StreamEnd(str(status) if status else None)
        if since is not None and not select([payload], since=since):
            continue
        emit(format_row(payload))
    return StreamEnd(None)


async def follow_runtime(
    fetch: Callable[[], Awaitable[Sequence[Any]]],
    emit: Callable[[str], None],
    *,
    since: str | None = None,
    tail: int | None = None,
    interval: float = RUNTIME_POLL_SECONDS,
    rounds: int | None = None,
) -> None:
    """Poll runtime logs (the gateway has no runtime stream) and print rows not printed yet,
    until interrupted (or `rounds` polls, for tests)."""
    seen: set[str] = set()
    first = True
    done = 0
    while rounds is None or done < rounds:
        rows = await fetch()
        fresh = [r for r in select(rows, since=since) if _key(r) not in seen]
        if first:
            fresh = select(fresh, tail=tail)
            first = False
        for row in fresh:
            seen.add(_key(row))
            emit(format_row(row))
        done += 1
        if rounds is None or done < rounds:
            await asyncio.sleep(interval)


def _key(row: Any) -> str:
    return json.dumps(row, sort_keys=True, default=str)
