"""Reading the gateway's streams: server-sent events, the build-log WebSocket and its messages.

`build-logs/stream` is a WebSocket in the documents, which do not show its messages; each text
message is read as a JSON object with `message` or `line` (and optional `timestamp`, `level`,
`phase`), or as plain text. A message whose `type`/`event` is one of `END_KINDS` (or that says
`end: true`) ends the stream, as does the connection closing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import httpx

from opendeploy_plan.gateway._errors import GatewayError, ResponseLost, Unauthorized, scrub
from opendeploy_plan.gateway._models import BuildLogLine

if TYPE_CHECKING:
    from httpx_ws import AsyncWebSocketSession

    from opendeploy_plan.gateway._engine import RequestEngine

END_KINDS = frozenset(
    {"end", "done", "eof", "complete", "completed", "finished", "close", "closed", "terminal"}
)


def read_log_message(text: str) -> tuple[BuildLogLine | None, bool]:
    """`(line, ended)` for one stream message; `line` is None for a control message."""
    stripped = text.strip()
    if not stripped:
        return None, False
    payload: Any = None
    if stripped.startswith("{"):
        try:
            payload = json.loads(stripped)
        except (ValueError, RecursionError):
            payload = None
    if not isinstance(payload, dict):
        return BuildLogLine(message=text.rstrip("\r\n")), False
    if is_end(payload):
        return None, True
    message = payload.get("message", payload.get("line"))
    if not isinstance(message, str):
        return None, False
    return (
        BuildLogLine(
            message=message,
            timestamp=_text(payload.get("timestamp", payload.get("ts"))),
            level=_text(payload.get("level")),
            phase=_text(payload.get("phase")),
        ),
        False,
    )


def is_end(payload: Mapping[str, Any]) -> bool:
    kind = str(payload.get("type") or payload.get("event") or "").strip().lower()
    return kind in END_KINDS or payload.get("end") is True or payload.get("done") is True


def _text(value: Any) -> str | None:
    return None if value is None or isinstance(value, dict | list) else str(value)


class WebSocketRefused(GatewayError):
    """The server answered a WebSocket upgrade with a plain HTTP status (`status_code`)."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


async def websocket_texts(engine: RequestEngine, path: str) -> AsyncGenerator[str, None]:
    """`GET path` upgraded to a WebSocket: each text (or UTF-8 binary) message until the
    server closes. `WebSocketRefused` when the upgrade is answered with plain HTTP (or, in
    process, closed before it was accepted). Like the SSE stream it holds no concurrency slot;
    use it under `contextlib.aclosing`.

    The session runs in its own task and hands messages over a queue: httpx-ws keeps a task
    group open for the session's life, and a generator must not yield from inside one (leaving
    early would throw into it).
    """
    # The WebSocket stack is imported here, not with the module: only a build-log stream
    # needs it, and every `odplan` command that talks to a gateway imports this module.
    import wsproto.events
    from httpx_ws import (
        AsyncWebSocketSession,
        WebSocketDisconnect,
        WebSocketNetworkError,
        WebSocketUpgradeError,
        aconnect_ws,
    )

    headers = {"Authorization": f"Bearer {engine.api_key}"} if engine.api_key else {}
    messages: asyncio.Queue[str | None] = asyncio.Queue()
    failures: list[GatewayError] = []

    async def pump() -> None:
        opening: AbstractAsyncContextManager[AsyncWebSocketSession] = aconnect_ws(
            path, engine.http, session_class=AsyncWebSocketSession, headers=headers
        )
        try:
            async with opening as socket:
                while True:
                    try:
                        event = await socket.receive()
                    except WebSocketDisconnect:
                        return
                    except WebSocketNetworkError as exc:
                        failures.append(
                            ResponseLost(
                                f"GET {engine.base_url}/{path}: the WebSocket broke ({exc})",
                                method="GET",
                                path="/" + path,
                                request_sent=True,
                            )
                        )
                        return
                    if isinstance(event, wsproto.events.TextMessage):
                        messages.put_nowait(event.data)
                    elif isinstance(event, wsproto.events.BytesMessage):
                        messages.put_nowait(bytes(event.data).decode("utf-8", "replace"))
        except WebSocketUpgradeError as exc:
            status = exc.response.status_code
            failures.append(
                WebSocketRefused(
                    f"GET /{path}: the gateway answered HTTP {status} instead of a WebSocket",
                    status_code=status,
                )
            )
        except WebSocketDisconnect:
            failures.append(
                WebSocketRefused(
                    f"GET /{path}: the gateway closed the WebSocket before accepting it",
                    status_code=403,
                )
            )
        except httpx.TransportError as exc:
            failures.append(engine.transport_error(exc, "GET", path))
        finally:
            messages.put_nowait(None)

    task = asyncio.create_task(pump())
    try:
        while (message := await messages.get()) is not None:
            yield message
        await task
        if failures:
            raise failures[0]
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def build_log_lines(engine: RequestEngine, path: str) -> AsyncGenerator[BuildLogLine, None]:
    """The build log at `path`: over a WebSocket, or as SSE when the upgrade is answered with
    plain HTTP (an older gateway), so either answer works."""
    try:
        async with contextlib.aclosing(websocket_texts(engine, path)) as texts:
            async for text in texts:
                line, ended = read_log_message(scrub(text, engine.sent_secrets))
                if line is not None:
                    yield line
                if ended:
                    return
        return
    except WebSocketRefused as refused:
        if refused.status_code == 401:
            raise Unauthorized(
                status_code=401,
                reason="the build-log stream refused the token",
                method="GET",
                path="/" + path,
            ) from None
    events = engine.stream_sse(path, operation="reading the build log")
    async with contextlib.aclosing(events) as stream:
        async for event in stream:
            if event.event.strip().lower() in END_KINDS:
                return
            line, ended = read_log_message(event.data)
            if line is not None:
                yield line
            if ended:
                return
