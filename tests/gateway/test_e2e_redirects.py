"""A redirect to another origin never carries the token: two real servers on two ports."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from opendeploy_plan.gateway import GatewayClient, RedirectRefused, RetryPolicy

TOKEN = "od_k" + "R" * 43


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def recording_server(seen: list[dict[str, str]]) -> type[BaseHTTPRequestHandler]:
    class Recorder(BaseHTTPRequestHandler):
        def _record(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()})
            body = json.dumps([{"id": "stolen", "status": "active"}]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _record

        def log_message(self, *args: Any) -> None:
            pass

    return Recorder


def redirecting_server(target: str, status: int = 302) -> type[BaseHTTPRequestHandler]:
    class Redirector(BaseHTTPRequestHandler):
        def _redirect(self) -> None:
            if self.path == "/api/v1/regions/" and target == "same-origin":
                self.send_response(301)
                self.send_header("Location", "/api/v1/regions-moved/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path == "/api/v1/regions-moved/":
                ok = self.headers.get("Authorization") == f"Bearer {TOKEN}"
                body = json.dumps([{"id": "r1", "status": "active" if ok else "no-token"}])
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())
                return
            self.send_response(status)
            self.send_header("Location", f"{target}/collect?from=gateway")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = _redirect

        def log_message(self, *args: Any) -> None:
            pass

    return Redirector


@pytest.mark.anyio
@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_cross_origin_redirect_does_not_carry_the_token(status: int) -> None:
    seen: list[dict[str, str]] = []
    with serve(recording_server(seen)) as other, serve(redirecting_server(other, status)) as gw:
        async with GatewayClient(f"{gw}/api", TOKEN, retry=RetryPolicy(0)) as client:
            with pytest.raises(RedirectRefused) as caught:
                await client.regions()
            with pytest.raises(RedirectRefused):
                await client.update_service("s1", {"cpu_limit": "1"})
    assert seen == [], "nothing at all reached the other origin"
    assert other in caught.value.location
    assert TOKEN not in str(caught.value) + repr(caught.value)


@pytest.mark.anyio
async def test_same_origin_get_redirect_is_followed_with_the_token() -> None:
    with serve(redirecting_server("same-origin")) as gw:
        async with GatewayClient(f"{gw}/api", TOKEN, retry=RetryPolicy(0)) as client:
            regions = await client.regions()
    assert [r.status for r in regions] == ["active"]
