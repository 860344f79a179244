"""One loopback port that serves every local service by host name.

`<sub>.localhost` is production and `<sub>.dev.localhost` staging (browsers and curl resolve
`*.localhost` to loopback); the platform's own names (`<sub>.opendeploy.run`,
`<sub>.dev.opendeploy.run`) are accepted too, so `curl --connect-to` works. An HTTP/1.1 proxy
on raw asyncio streams: each request is routed on its own (a keep-alive connection follows a
route switch at its next request), bodies stream through as they come, and an `Upgrade`
(WebSocket) becomes a two-way tunnel. The route table is replaced whole, so a switch is atomic.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import mimetypes
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from opendeploy_plan.runtime.ports import LOOPBACK

PLATFORM_DOMAIN: Final = "opendeploy.run"
_MAX_HEAD: Final = 64 * 1024
_COPY_CHUNK: Final = 64 * 1024
_MISS_INTERVAL: Final = 0.2
_NO_BODY_STATUSES: Final = frozenset({204, 304})


@dataclass(frozen=True)
class Upstream:
    """A process answering HTTP on a loopback port."""

    port: int


@dataclass(frozen=True)
class StaticSite:
    """A folder of files served by the router itself."""

    root: str


Target = Upstream | StaticSite


class _BadRequest(Exception):
    pass


class _Sink(Protocol):
    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...


def route_key(host: str) -> tuple[str, str] | None:
    """`api.dev.localhost:8080` -> ("api", "staging"); None for a name we do not serve."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    name = name.strip().rstrip(".").lower()
    for suffix in ("localhost", PLATFORM_DOMAIN):
        if name.endswith("." + suffix):
            label = name[: -len(suffix) - 1]
            if label.endswith(".dev"):
                return label[:-4], "staging"
            return label, "production"
    return None


class _Head:
    """A parsed request or response head; `raw` is forwarded unchanged apart from additions."""

    __slots__ = ("first", "headers", "raw")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        lines = raw[:-4].split(b"\r\n")
        self.first = lines[0]
        self.headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise _BadRequest("malformed header line")
            key = name.strip().lower()
            value = value.strip()
            self.headers[key] = self.headers[key] + b", " + value if key in self.headers else value

    def token(self, name: bytes, token: bytes) -> bool:
        return token in [v.strip().lower() for v in self.headers.get(name, b"").split(b",")]

    def content_length(self) -> int | None:
        value = self.headers.get(b"content-length")
        if value is None:
            return None
        try:
            length = int(value.split(b",")[0])
        except ValueError as error:
            raise _BadRequest("bad Content-Length") from error
        if length < 0:
            raise _BadRequest("bad Content-Length")
        return length


async def _read_head(reader: asyncio.StreamReader) -> _Head | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if error.partial.strip():
            raise _BadRequest("incomplete head") from error
        return None
    except asyncio.LimitOverrunError as error:
        raise _BadRequest("head too large") from error
    return _Head(raw)


async def _copy_exact(reader: asyncio.StreamReader, writer: _Sink, n: int) -> None:
    while n > 0:
        chunk = await reader.read(min(_COPY_CHUNK, n))
        if not chunk:
            raise ConnectionResetError("connection closed mid-body")
        writer.write(chunk)
        n -= len(chunk)
        await writer.drain()


async def _copy_chunked(reader: asyncio.StreamReader, writer: _Sink) -> None:
    while True:
        size_line = await reader.readuntil(b"\r\n")
        writer.write(size_line)
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            while True:  # trailers, then the empty line
                trailer = await reader.readuntil(b"\r\n")
                writer.write(trailer)
                if trailer == b"\r\n":
                    await writer.drain()
                    return
        await _copy_exact(reader, writer, size + 2)


async def _copy_until_eof(reader: asyncio.StreamReader, writer: _Sink) -> None:
    while chunk := await reader.read(_COPY_CHUNK):
        writer.write(chunk)
        await writer.drain()


async def _copy_body(head: _Head, reader: asyncio.StreamReader, writer: _Sink) -> None:
    """A request body by its framing (requests without either header have none)."""
    if head.token(b"transfer-encoding", b"chunked"):
        await _copy_chunked(reader, writer)
    elif length := head.content_length():
        await _copy_exact(reader, writer, length)


def _simple_response(status: str, body: str, *, close: bool = False) -> bytes:
    data = body.encode()
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(data)}\r\n{'Connection: close' + chr(13) + chr(10) if close else ''}"
        "\r\n"
    ).encode() + data


class Router:
    """The local router: `start()` binds `127.0.0.1:port` (0 picks one) on its own thread.

    Invariant: `_routes` is never mutated, only replaced, so every request sees one table.
    """

    def __init__(self, port: int = 0) -> None:
        self.requested_port = port
        self.port = 0
        # Called (off the event loop, at most every 0.2 s) when a host is unknown, so the
        # owner can bring the table up to date at once (a subdomain renamed a moment ago).
        self.on_miss: Callable[[], None] | None = None
        self._last_miss = 0.0
        self._routes: dict[tuple[str, str], Target] = {}
        self._routes_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None

    # -- routes ---------------------------------------------------------------------------
    def set_route(self, subdomain: str, environment: str, target: Target) -> None:
        with self._routes_lock:
            self._routes = {**self._routes, (subdomain.lower(), environment): target}

    def remove_route(self, subdomain: str, environment: str) -> None:
        with self._routes_lock:
            routes = dict(self._routes)
            routes.pop((subdomain.lower(), environment), None)
            self._routes = routes

    def replace_routes(self, table: dict[tuple[str, str], Target]) -> None:
        """Serve exactly `table` from the next request on (one atomic swap)."""
        fresh = {(label.lower(), environment): t for (label, environment), t in table.items()}
        with self._routes_lock:
            self._routes = fresh

    def routes(self) -> dict[tuple[str, str], Target]:
        return self._routes

    def url_for(self, subdomain: str, environment: str) -> str:
        middle = ".dev" if environment == "staging" else ""
        return f"http://{subdomain}{middle}.localhost:{self.port}"

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="local-router", daemon=True)
        self._thread.start()
        self._started.wait(10)
        if self._start_error is not None:
            raise self._start_error

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, LOOPBACK, self.requested_port, limit=_MAX_HEAD)
            )
            self.port = int(self._server.sockets[0].getsockname()[1])
        except OSError as error:
            self._start_error = error
            self._started.set()
            return
        self._started.set()
        loop.run_forever()
        loop.close()

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is None or server is None or not loop.is_running():
            return
        self._loop = None

        async def shut() -> None:
            server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(shut(), loop).result(5)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    # -- serving --------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstreams: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}
        try:
            while True:
                head = await _read_head(reader)
                if head is None:
                    return
                keep = await self._one_request(head, reader, writer, upstreams)
                if not keep:
                    return
        except (_BadRequest, ValueError) as error:
            # ValueError: a malformed chunk size or status line, from either side.
            writer.write(_simple_response("400 Bad Request", html.escape(str(error)), close=True))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            # The router is stopping; end quietly (asyncio's stream callback reports a
            # cancelled handler as an error otherwise).
            pass
        finally:
            for _, up_writer in upstreams.values():
                up_writer.close()
            with contextlib.suppress(Exception):
                await writer.drain()
            writer.close()

    async def _one_request(
        self,
        head: _Head,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstreams: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]],
    ) -> bool:
        """Answer one request; whether the client connection may carry another."""
        parts = head.first.split(b" ")
        if len(parts) != 3:
            raise _BadRequest("malformed request line")
        method, target_path, version = parts
        client_keep = (
            not head.token(b"connection", b"close")
            if version == b"HTTP/1.1"
            else head.token(b"connection", b"keep-alive")
        )
        host = head.headers.get(b"host", b"").decode("latin-1")
        key = route_key(host)
        target = self._routes.get(key) if key else None
        if target is None and key is not None and self.on_miss is not None:
            target = await self._after_refresh(key)
        if target is None:
            await _copy_body(head, reader, _Discard())
            writer.write(_simple_response("404 Not Found", self._not_found_page(host)))
            return client_keep
        if isinstance(target, StaticSite):
            await _copy_body(head, reader, _Discard())
            writer.write(_serve_static(Path(target.root), method, target_path))
            return client_keep
        return await self._proxy(head, method, reader, writer, target.port, client_keep, upstreams)

    async def _proxy(
        self,
        head: _Head,
        method: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        port: int,
        client_keep: bool,
        upstreams: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]],
    ) -> bool:
        for stale_port in [p for p in upstreams if p != port]:
            upstreams.pop(stale_port)[1].close()
        has_body = head.token(b"transfer-encoding", b"chunked") or bool(head.content_length())
        first_line_end = head.raw.index(b"\r\n")
        forwarded = (
            head.raw[:first_line_end]
            + b"\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http"
            + head.raw[first_line_end:]
        )
        # A reused connection may have been closed by the app meanwhile: retry a bodiless
        # request once on a fresh one, since nothing of it can have been processed.
        for attempt in (0, 1):
            reused = port in upstreams
            if not reused:
                try:
                    upstreams[port] = await asyncio.open_connection(LOOPBACK, port)
                except OSError:
                    await _copy_body(head, reader, _Discard())
                    writer.write(_simple_response("502 Bad Gateway", _bad_gateway_page(port)))
                    return client_keep
            up_reader, up_writer = upstreams[port]
            try:
                up_writer.write(forwarded)
                if has_body:
                    await _copy_body(head, reader, up_writer)
                await up_writer.drain()
                response = await _read_head(up_reader)
                while response is not None and response.first.split(b" ")[1:2] == [b"100"]:
                    writer.write(response.raw)
                    response = await _read_head(up_reader)
            except (ConnectionError, _BadRequest):
                response = None
            if response is None:
                upstreams.pop(port)[1].close()
                if reused and not has_body and attempt == 0:
                    continue
                writer.write(_simple_response("502 Bad Gateway", _bad_gateway_page(port)))
                return False
            break
        assert response is not None
        return await self._relay_response(
            response, method, reader, writer, up_reader, up_writer, client_keep, upstreams, port
        )

    async def _relay_response(
        self,
        response: _Head,
        method: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
        client_keep: bool,
        upstreams: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]],
        port: int,
    ) -> bool:
        status_parts = response.first.split(b" ")
        status = int(status_parts[1]) if len(status_parts) > 1 and status_parts[1].isdigit() else 0
        writer.write(response.raw)
        if status == 101:
            upstreams.pop(port, None)
            await _tunnel(reader, writer, up_reader, up_writer)
            return False
        upstream_keep = not response.token(b"connection", b"close") and response.first.startswith(
            b"HTTP/1.1"
        )
        if method == b"HEAD" or status in _NO_BODY_STATUSES or 100 <= status < 200:
            pass
        elif response.token(b"transfer-encoding", b"chunked"):
            await _copy_chunked(up_reader, writer)
        elif (length := response.content_length()) is not None:
            await _copy_exact(up_reader, writer, length)
        else:
            await _copy_until_eof(up_reader, writer)
            upstreams.pop(port)[1].close()
            return False
        await writer.drain()
        if not upstream_keep:
            upstreams.pop(port)[1].close()
        return client_keep

    async def _after_refresh(self, key: tuple[str, str]) -> Target | None:
        now = time.monotonic()
        if now - self._last_miss >= _MISS_INTERVAL and self.on_miss is not None:
            self._last_miss = now
            await asyncio.get_running_loop().run_in_executor(None, self.on_miss)
        return self._routes.get(key)

    def _not_found_page(self, host: str) -> str:
        served = sorted(self._routes)
        items = "".join(
            f'<li><a href="{self.url_for(sub, env)}/">{self.url_for(sub, env)}</a> ({env})</li>'
            for sub, env in served
        )
        listing = f"<ul>{items}</ul>" if items else "<p>No service is deployed yet.</p>"
        return (
            f"<h1>404: nothing is served at {html.escape(host or '(no Host header)')}</h1>"
            f"<p>This is the opendeploy local router. Served here:</p>{listing}"
        )


def _bad_gateway_page(port: int) -> str:
    return (
        f"<h1>502: the service is not answering</h1><p>Its process on 127.0.0.1:{port} did not "
        "answer. Check `odplan logs` for its output.</p>"
    )


class _Discard:
    """A writer that drops what it is given (a body nobody will read)."""

    def write(self, data: bytes) -> None:
        pass

    async def drain(self) -> None:
        pass


async def _tunnel(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await _copy_until_eof(source, sink)
        with contextlib.suppress(OSError, RuntimeError):
            sink.write_eof()

    await writer.drain()
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
    up_writer.close()


def _serve_static(root: Path, method: bytes, raw_target: bytes) -> bytes:
    if method not in (b"GET", b"HEAD"):
        return _simple_response("405 Method Not Allowed", "<h1>405</h1>")
    path = urllib.parse.unquote(raw_target.decode("latin-1").split("?", 1)[0])
    base = root.resolve()
    candidate = (base / path.lstrip("/")).resolve()
    if candidate != base and base not in candidate.parents:
        return _simple_response("404 Not Found", "<h1>404: not found</h1>")
    if candidate.is_dir():
        candidate = candidate / "index.html"
    if not candidate.is_file() and candidate.with_suffix(".html").is_file():
        candidate = candidate.with_suffix(".html")
    if not candidate.is_file():
        missing = base / "404.html"
        body = missing.read_bytes() if missing.is_file() else b"<h1>404: not found</h1>"
        return _with_body("404 Not Found", "text/html; charset=utf-8", body, method)
    kind = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        kind += "; charset=utf-8"
    return _with_body("200 OK", kind, candidate.read_bytes(), method)


def _with_body(status: str, content_type: str, body: bytes, method: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head if method == b"HEAD" else head + body
