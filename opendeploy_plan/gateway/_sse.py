"""Server-sent events: the `event:`/`data:` lines of a text/event-stream, as events.

Bounded: a line longer than `MAX_LINE_CHARS` or an event whose data passes `MAX_EVENT_CHARS`
ends the stream with `InvalidResponse` (a gateway cannot fill memory with one endless line).
Event data is made printable on the way in: JSON data keeps its shape with every string in it
escaped, other data is escaped as text (textsafe.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from opendeploy_plan.gateway._errors import InvalidResponse
from opendeploy_plan.gateway._models import SseEvent
from opendeploy_plan.textsafe import escape_controls, escape_tree

__all__ = ["MAX_EVENT_CHARS", "MAX_LINE_CHARS", "bounded_lines", "parse_sse"]

MAX_LINE_CHARS = 1024 * 1024
MAX_EVENT_CHARS = 4 * 1024 * 1024


async def bounded_lines(
    texts: AsyncIterator[str], limit: int = MAX_LINE_CHARS
) -> AsyncIterator[str]:
    """Lines (without their end) from decoded text chunks; `InvalidResponse` past `limit`."""
    pending = ""
    async for text in texts:
        pending += text
        *complete, pending = pending.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for line in complete:
            if len(line) > limit:
                raise _too_long()
            yield line
        if len(pending) > limit:
            raise _too_long()
    if pending:
        yield pending


def _too_long() -> InvalidResponse:
    return InvalidResponse(
        f"the gateway's event stream sent a line longer than {MAX_LINE_CHARS} characters; "
        "odplan stopped reading it"
    )


def safe_data(data: str) -> str:
    """Event data with every control character escaped (inside JSON strings too); the
    newlines that join a multi-line event's `data:` lines are kept (the wire format's own)."""
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError):
        return "\n".join(escape_controls(line) for line in data.split("\n"))
    return json.dumps(escape_tree(payload), ensure_ascii=False)


async def parse_sse(lines: AsyncIterator[str]) -> AsyncIterator[SseEvent]:
    """Server-sent events from a line iterator (the text/event-stream wire format)."""
    event, event_id = "message", None
    data: list[str] = []
    size = 0
    async for raw in lines:
        line = raw.rstrip("\r")
        if line == "":
            if data:
                yield SseEvent(
                    event=escape_controls(event), data=safe_data("\n".join(data)), id=event_id
                )
            event, data, size = "message", [], 0
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            size += len(value) + 1
            if size > MAX_EVENT_CHARS:
                raise InvalidResponse(
                    f"the gateway's event stream sent an event over {MAX_EVENT_CHARS} "
                    "characters; odplan stopped reading it"
                )
            data.append(value)
        elif name == "event":
            event = value or "message"
        elif name == "id":
            event_id = escape_controls(value)
    if data:
        yield SseEvent(event=escape_controls(event), data=safe_data("\n".join(data)), id=event_id)
