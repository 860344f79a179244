"""Small fake gateways on 127.0.0.1 for the contract tests: a scripted plain-HTTP server (it
answers exactly what a test says, including a plain 200 to a WebSocket upgrade) and any ASGI
app served by uvicorn (for real WebSockets)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Seen:
    """One request the fake server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


Answer = tuple[int, dict[str, str], bytes]
Route = Callable[[Seen], Answer]


def reply(status: int, payload: Any = None, **headers: str) -> Answer:
    body = b"" if payload is None else json.dumps(payload).encode()
    return status, {"Content-Type": "application/json", **headers}, body


@dataclass
class FakeGateway:
    root: str
    seen: list[Seen] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"{self.root}/api"

    def paths(self, method: str | None = None) -> list[str]:
        return [s.path for s in self.seen if method is None or s.method == method]


@contextmanager
def fake_gateway(route: Route) -> Iterator[FakeGateway]:
    """A plain HTTP/1.1 server answering every request with `route(seen)`."""
    gateway = FakeGateway(root="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            seen = Seen(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            gateway.seen.append(seen)
            status, headers, body = route(seen)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    gateway.root = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def asgi_gateway(app: Any) -> Iterator[str]:
    """`app` served by uvicorn on an ephemeral 127.0.0.1 port; yields the root URL."""
    from opendeploy_plan.emulator.server import serve_in_thread

    with serve_in_thread(app) as root:
        yield root
