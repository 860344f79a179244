"""The local router over real sockets: host names, keep-alive across a route switch,
streaming, WebSocket-style upgrades, static files, 404 and 502 pages."""

from __future__ import annotations

import socket
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from opendeploy_plan.runtime import Router, StaticSite, Upstream, route_key


class _App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    name = "app"

    def do_GET(self) -> None:
        if self.path == "/stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"one ", b"two ", b"three"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path == "/ws":
            assert self.headers["Upgrade"] == "websocket"
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.flush()
            while data := self.rfile.read1(1024):  # echo until the client closes
                self.wfile.write(data.upper())
                self.wfile.flush()
            self.close_connection = True
            return
        body = f"{self.name} {self.headers['X-Forwarded-Proto']}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[::-1])

    def log_message(self, *args: object) -> None:
        pass


def serve_app(name: str) -> ThreadingHTTPServer:
    handler = type(f"App_{name}", (_App,), {"name": name})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_route_key_reads_local_and_platform_names() -> None:
    assert route_key("api.localhost:8080") == ("api", "production")
    assert route_key("api.dev.localhost") == ("api", "staging")
    assert route_key("API.opendeploy.run") == ("api", "production")
    assert route_key("api.dev.opendeploy.run:443") == ("api", "staging")
    assert route_key("example.com") is None
    assert route_key("localhost:8080") is None


def test_keep_alive_connection_follows_an_atomic_switch(router: Router) -> None:
    blue, green = serve_app("blue"), serve_app("green")
    router.set_route("shop", "production", Upstream(blue.server_port))
    url = f"http://127.0.0.1:{router.port}/"
    with httpx.Client(headers={"Host": "shop.localhost"}) as client:
        assert client.get(url).text == "blue http"
        router.set_route("shop", "production", Upstream(green.server_port))
        assert client.get(url).text == "green http"
        assert client.post(url, content=b"abc").text == "cba"
    blue.shutdown()
    green.shutdown()


def test_streaming_response_passes_through_chunk_by_chunk(router: Router) -> None:
    app = serve_app("s")
    router.set_route("s", "production", Upstream(app.server_port))
    with httpx.stream(
        "GET", f"http://127.0.0.1:{router.port}/stream", headers={"Host": "s.localhost"}
    ) as response:
        parts = list(response.iter_raw())
    assert b"".join(parts) == b"one two three"
    app.shutdown()


def test_upgrade_becomes_a_two_way_tunnel(router: Router) -> None:
    app = serve_app("ws")
    router.set_route("ws", "staging", Upstream(app.server_port))
    with socket.create_connection(("127.0.0.1", router.port), timeout=5) as conn:
        conn.sendall(
            b"GET /ws HTTP/1.1\r\nHost: ws.dev.localhost\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(1024)
        assert head.startswith(b"HTTP/1.1 101")
        conn.sendall(b"ping")
        assert conn.recv(1024) == b"PING"
    app.shutdown()


def _raw_get(port: int, target: bytes, host: bytes) -> bytes:
    """One request sent as written: an HTTP client would normalise `/../` away first."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_a_static_site_serves_nothing_outside_its_folder(router: Router, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>home</h1>")
    (tmp_path / "secret.txt").write_text("outside-the-site")
    (site / "linked.txt").symlink_to(tmp_path / "secret.txt")
    router.set_route("docs", "production", StaticSite(str(site)))
    for target in (
        b"/../secret.txt",
        b"/%2e%2e/secret.txt",
        b"/a/../../secret.txt",
        b"/linked.txt",
    ):
        answer = _raw_get(router.port, target, b"docs.localhost")
        assert answer.startswith(b"HTTP/1.1 404"), (target, answer[:200])
        assert b"outside-the-site" not in answer
    inside = _raw_get(router.port, b"/a/../index.html", b"docs.localhost")
    assert inside.startswith(b"HTTP/1.1 200") and inside.endswith(b"<h1>home</h1>")


def test_static_site_unknown_host_and_dead_upstream(router: Router, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>home</h1>")
    (tmp_path / "about.html").write_text("about")
    router.set_route("docs", "production", StaticSite(str(tmp_path)))
    url = f"http://127.0.0.1:{router.port}"
    assert httpx.get(f"{url}/", headers={"Host": "docs.localhost"}).text == "<h1>home</h1>"
    assert httpx.get(f"{url}/about", headers={"Host": "docs.localhost"}).text == "about"
    escape = httpx.get(f"{url}/../../etc/passwd", headers={"Host": "docs.localhost"})
    assert escape.status_code == 404

    unknown = httpx.get(f"{url}/", headers={"Host": "nope.localhost"})
    assert unknown.status_code == 404
    assert f"http://docs.localhost:{router.port}" in unknown.text  # lists what is served

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    router.set_route("gone", "production", Upstream(dead_port))
    assert httpx.get(f"{url}/", headers={"Host": "gone.localhost"}).status_code == 502


def test_added_latency_is_small(router: Router) -> None:
    """The issue's bar is p50 <= 1 ms added; asserted loosely here (CI machines are shared),
    measured precisely by benchmarks/runtime.py."""
    app = serve_app("fast")
    router.set_route("fast", "production", Upstream(app.server_port))

    def p50(port: int) -> float:
        samples = []
        with httpx.Client(headers={"Host": "fast.localhost"}) as client:
            for _ in range(150):
                started = time.perf_counter()
                client.get(f"http://127.0.0.1:{port}/")
                samples.append(time.perf_counter() - started)
        return statistics.median(samples[20:])

    direct, routed = p50(app.server_port), p50(router.port)
    assert routed - direct < 0.005
    app.shutdown()


def test_an_unknown_host_asks_the_owner_once_before_a_404(router: Router) -> None:
    app = serve_app("late")
    asked: list[int] = []

    def refresh() -> None:
        asked.append(1)
        router.set_route("late", "production", Upstream(app.server_port))

    router.on_miss = refresh
    url = f"http://127.0.0.1:{router.port}/"
    assert httpx.get(url, headers={"Host": "late.localhost"}).text == "late http"
    assert asked == [1]
    app.shutdown()
