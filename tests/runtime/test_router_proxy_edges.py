"""The local router as a proxy, against an upstream that answers exactly the bytes a test
scripts: bodiless answers (HEAD, 304) are not waited on, the app learns the client address,
a connection the app closes is not reused, a request with a body is never replayed, an
HTTP/1.0 client is let go, a route switch releases the old app's connection, and an unknown
host asks the owner to refresh at most once in a burst."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from opendeploy_plan.runtime import Router, StaticSite, Upstream

Answer = Callable[[bytes], tuple[bytes, bool]]  # request head -> (response bytes, close after)


class RawUpstream:
    """A loopback server answering each request with scripted bytes; records what it saw."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.connections = 0
        self.closed = threading.Event()  # set when a connection ends (either side)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        self.closed.set()
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                buffer = buffer[length:]
                self.requests.append(head)
                response, close = self.answer(head)
                conn.sendall(response)
                if close:
                    conn.shutdown(socket.SHUT_RDWR)
                    self.closed.set()
                    return

    def stop(self) -> None:
        self.server.close()


@pytest.fixture
def upstreams() -> Iterator[Callable[[Answer], RawUpstream]]:
    made: list[RawUpstream] = []

    def make(answer: Answer) -> RawUpstream:
        made.append(RawUpstream(answer))
        return made[-1]

    yield make
    for upstream in made:
        upstream.stop()


def _client(router: Router) -> socket.socket:
    return socket.create_connection(("127.0.0.1", router.port), timeout=3)


def _read_response(conn: socket.socket) -> tuple[bytes, bytes]:
    """One response with a Content-Length body (or none for a HEAD-like answer)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if not head.startswith(b"HTTP/1.1 304") and b"X-Head" not in head:
        while len(body) < length:
            body += conn.recv(65536)
    return head, body


def _ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def test_a_head_answer_and_a_304_carry_no_body_and_the_connection_goes_on(
    router: Router, upstreams: Callable[[Answer], RawUpstream]
) -> None:
    def answer(head: bytes) -> tuple[bytes, bool]:
        if head.startswith(b"HEAD"):
            return b"HTTP/1.1 200 OK\r\nX-Head: 1\r\nContent-Length: 50\r\n\r\n", False
        if b"/cached" in head.split(b"\r\n")[0]:
            return b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", False
        return _ok(b"after"), False

    app = upstreams(answer)
    router.set_route("h", "production", Upstream(app.port))
    with _client(router) as conn:
        conn.sendall(b"HEAD / HTTP/1.1\r\nHost: h.localhost\r\n\r\n")
        head, _ = _read_response(conn)
        assert head.startswith(b"HTTP/1.1 200")
        conn.sendall(b"GET /cached HTTP/1.1\r\nHost: h.localhost\r\n\r\n")
        head, _ = _read_response(conn)
        assert head.startswith(b"HTTP/1.1 304")
        conn.sendall(b"GET /next HTTP/1.1\r\nHost: h.localhost\r\n\r\n")
        head, body = _read_response(conn)
        assert head.startswith(b"HTTP/1.1 200") and body == b"after"


def test_the_app_is_told_the_client_address_and_scheme(
    router: Router, upstreams: Callable[[Answer], RawUpstream]
) -> None:
    app = upstreams(lambda head: (_ok(b"x"), False))
    router.set_route("f", "staging", Upstream(app.port))
    with _client(router) as conn:
        conn.sendall(b"GET /p HTTP/1.1\r\nHost: f.dev.localhost\r\n\r\n")
        _read_response(conn)
    lines = app.requests[0].split(b"\r\n")
    assert lines[0] == b"GET /p HTTP/1.1"
    assert b"X-Forwarded-For: 127.0.0.1" in lines
    assert b"X-Forwarded-Proto: http" in lines
    assert b"Host: f.dev.localhost" in lines


def test_a_connection_the_app_closes_is_not_reused_even_for_a_body(
    router: Router, upstreams: Callable[[Answer], RawUpstream]
) -> None:
    app = upstreams(lambda head: (_ok(b"done", b"Connection: close\r\n"), True))
    router.set_route("c", "production", Upstream(app.port))
    with _client(router) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: c.localhost\r\n\r\n")
        head, body = _read_response(conn)
        assert body == b"done" and b"Connection: close" in head
        assert app.closed.wait(3)
        conn.sendall(b"POST / HTTP/1.1\r\nHost: c.localhost\r\nContent-Length: 3\r\n\r\nabc")
        head, body = _read_response(conn)
        assert head.startswith(b"HTTP/1.1 200") and body == b"done"
    assert app.connections == 2


def test_a_request_with_a_body_is_not_replayed_on_a_connection_found_dead(
    router: Router, upstreams: Callable[[Answer], RawUpstream]
) -> None:
    """The app closed its keep-alive connection without saying so: a bodiless request is
    retried on a fresh one, but a POST (already sent) is answered 502, not sent again."""
    app = upstreams(lambda head: (_ok(b"once"), True))  # closes silently, no header
    router.set_route("d", "production", Upstream(app.port))
    with _client(router) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: d.localhost\r\n\r\n")
        assert _read_response(conn)[1] == b"once"
        assert app.closed.wait(3)
        app.closed.clear()
        conn.sendall(b"GET / HTTP/1.1\r\nHost: d.localhost\r\n\r\n")
        head, body = _read_response(conn)
        assert head.startswith(b"HTTP/1.1 200") and body == b"once"  # retried on a fresh one
        assert app.closed.wait(3)
        conn.sendall(b"POST / HTTP/1.1\r\nHost: d.localhost\r\nContent-Length: 3\r\n\r\nabc")
        head, _ = _read_response(conn)
        assert head.startswith(b"HTTP/1.1 502")
    assert [r.split(b" ")[0] for r in app.requests] == [b"GET", b"GET"]


def test_an_http_1_0_client_is_let_go_unless_it_asks_to_keep_alive(
    router: Router, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("home")
    router.set_route("s", "production", StaticSite(str(tmp_path)))
    with _client(router) as conn:
        conn.sendall(b"GET / HTTP/1.0\r\nHost: s.localhost\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):  # the router closes: recv returns b""
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"home")
    with _client(router) as conn:
        for _ in range(2):
            conn.sendall(b"GET / HTTP/1.0\r\nHost: s.localhost\r\nConnection: keep-alive\r\n\r\n")
            head, body = _read_response(conn)
            assert head.startswith(b"HTTP/1.1 200") and body == b"home"


def test_a_route_switch_releases_the_old_apps_connection(
    router: Router, upstreams: Callable[[Answer], RawUpstream]
) -> None:
    blue = upstreams(lambda head: (_ok(b"blue"), False))
    green = upstreams(lambda head: (_ok(b"green"), False))
    router.set_route("w", "production", Upstream(blue.port))
    with _client(router) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: w.localhost\r\n\r\n")
        assert _read_response(conn)[1] == b"blue"
        router.set_route("w", "production", Upstream(green.port))
        conn.sendall(b"GET / HTTP/1.1\r\nHost: w.localhost\r\n\r\n")
        assert _read_response(conn)[1] == b"green"
        assert blue.closed.wait(3)  # while the client connection is still open


def test_a_burst_of_unknown_hosts_refreshes_the_table_at_most_once(router: Router) -> None:
    asked: list[int] = []
    router.on_miss = lambda: asked.append(1)
    with _client(router) as conn:
        for _ in range(3):
            conn.sendall(b"GET / HTTP/1.1\r\nHost: none.localhost\r\n\r\n")
            head, _ = _read_response(conn)
            assert head.startswith(b"HTTP/1.1 404")
    # 0.2 s apart at most once; three requests on one connection take far less.
    assert 1 <= len(asked) < 3
