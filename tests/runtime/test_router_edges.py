"""The local router's pure parts: which host names map to which route, how a request head is
read (repeated headers, Content-Length), how bodies are framed when copied, how the route table
is kept (case-insensitive, replaced whole) and how a static folder answers (index, `.html`
fallback, custom 404, HEAD, methods, content types)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from opendeploy_plan.runtime.router import (
    Router,
    StaticSite,
    Upstream,
    _BadRequest,
    _copy_body,
    _copy_chunked,
    _Head,
    _serve_static,
    _simple_response,
    route_key,
)


class _Sink:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        pass


def _head(text: str) -> _Head:
    return _Head(text.replace("\n", "\r\n").encode() + b"\r\n\r\n")


def _reader(data: bytes, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


# -- host names -----------------------------------------------------------------------------
def test_host_names_are_trimmed_lowercased_and_stripped_of_a_trailing_dot() -> None:
    assert route_key(" Api.Dev.LocalHost. ") == ("api", "staging")
    assert route_key("shop.localhost.:8080") == ("shop", "production")


def test_a_nested_label_keeps_its_dots_and_only_a_final_dev_means_staging() -> None:
    assert route_key("a.b.localhost") == ("a.b", "production")
    assert route_key("dev.api.localhost") == ("dev.api", "production")
    assert route_key("a.b.dev.opendeploy.run") == ("a.b", "staging")


def test_names_outside_the_served_domains_are_not_routed() -> None:
    assert route_key("") is None
    assert route_key("localhost") is None
    assert route_key("opendeploy.run") is None
    assert route_key("evillocalhost") is None
    assert route_key("api.notopendeploy.run.example") is None
    assert route_key("[::1]:8080") is None


# -- request heads --------------------------------------------------------------------------
def test_repeated_headers_are_joined_and_tokens_match_case_insensitively() -> None:
    head = _head("GET / HTTP/1.1\nConnection: keep-alive\nCONNECTION: Upgrade\nHost: a")
    assert head.first == b"GET / HTTP/1.1"
    assert head.headers[b"connection"] == b"keep-alive, Upgrade"
    assert head.token(b"connection", b"upgrade")
    assert head.token(b"connection", b"keep-alive")
    assert not head.token(b"connection", b"close")
    assert not head.token(b"transfer-encoding", b"chunked")


def test_a_header_line_without_a_colon_is_a_bad_request() -> None:
    with pytest.raises(_BadRequest):
        _head("GET / HTTP/1.1\nHost a.localhost")


def test_content_length_absent_repeated_zero_and_invalid() -> None:
    assert _head("POST / HTTP/1.1").content_length() is None
    assert _head("POST / HTTP/1.1\nContent-Length: 0").content_length() == 0
    assert _head("POST / HTTP/1.1\nContent-Length: 7\nContent-Length: 7").content_length() == 7
    for bad in ("-1", "abc", ""):
        with pytest.raises(_BadRequest):
            _head(f"POST / HTTP/1.1\nContent-Length: {bad}").content_length()


# -- body framing ---------------------------------------------------------------------------
def test_a_chunked_body_is_copied_through_its_trailers_and_no_further() -> None:
    body = b"3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"

    async def run() -> tuple[bytes, bytes]:
        reader = _reader(body + b"NEXT REQUEST")
        sink = _Sink()
        await _copy_chunked(reader, sink)
        return sink.data, await reader.read()

    copied, left = asyncio.run(run())
    assert copied == body
    assert left == b"NEXT REQUEST"


def test_a_sized_body_copies_exactly_its_length() -> None:
    async def run(head: _Head, data: bytes) -> tuple[bytes, bytes]:
        reader = _reader(data)
        sink = _Sink()
        await _copy_body(head, reader, sink)
        return sink.data, await reader.read()

    sized = _head("POST / HTTP/1.1\nContent-Length: 3")
    assert asyncio.run(run(sized, b"abcdef")) == (b"abc", b"def")
    bodiless = _head("GET / HTTP/1.1")
    assert asyncio.run(run(bodiless, b"GET /next")) == (b"", b"GET /next")
    chunked = _head("POST / HTTP/1.1\nTransfer-Encoding: gzip, Chunked\nContent-Length: 99")
    assert asyncio.run(run(chunked, b"1\r\nz\r\n0\r\n\r\nrest")) == (
        b"1\r\nz\r\n0\r\n\r\n",
        b"rest",
    )


def test_a_body_cut_short_is_a_closed_connection() -> None:
    async def run() -> None:
        await _copy_body(_head("POST / HTTP/1.1\nContent-Length: 10"), _reader(b"abc"), _Sink())

    with pytest.raises(ConnectionResetError):
        asyncio.run(run())


# -- simple responses and the route table ---------------------------------------------------
def test_a_simple_response_counts_bytes_not_characters_and_may_close() -> None:
    kept = _simple_response("404 Not Found", "é")
    assert kept.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert b"Content-Length: 2\r\n" in kept and kept.endswith(b"\r\n\r\n" + "é".encode())
    assert b"Connection: close" not in kept
    closed = _simple_response("400 Bad Request", "x", close=True)
    assert b"\r\nConnection: close\r\n\r\nx" in closed


def test_the_route_table_ignores_case_and_is_replaced_not_mutated() -> None:
    router = Router()
    router.port = 4321
    router.set_route("Shop", "production", Upstream(1))
    router.set_route("shop", "staging", Upstream(2))
    before = router.routes()
    router.remove_route("SHOP", "production")
    assert before == {("shop", "production"): Upstream(1), ("shop", "staging"): Upstream(2)}
    assert router.routes() == {("shop", "staging"): Upstream(2)}
    router.remove_route("absent", "production")
    router.replace_routes({("Docs", "staging"): StaticSite("/srv")})
    assert router.routes() == {("docs", "staging"): StaticSite("/srv")}
    assert router.url_for("docs", "staging") == "http://docs.dev.localhost:4321"
    assert router.url_for("docs", "production") == "http://docs.localhost:4321"


def test_the_not_found_page_lists_served_urls_and_escapes_the_host() -> None:
    router = Router()
    router.port = 9
    assert "No service is deployed yet" in router._not_found_page("x.localhost")
    assert "(no Host header)" in router._not_found_page("")
    router.set_route("b", "staging", Upstream(1))
    router.set_route("a", "production", Upstream(1))
    page = router._not_found_page("<script>")
    assert "&lt;script&gt;" in page and "<script>" not in page
    assert page.index("http://a.localhost:9") < page.index("http://b.dev.localhost:9")
    assert "No service is deployed yet" not in page


# -- static sites ---------------------------------------------------------------------------
def _split(answer: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return lines[0], headers, body


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("home")
    (tmp_path / "about.html").write_text("about")
    (tmp_path / "app.js").write_text("js")
    (tmp_path / "data.json").write_text("{}")
    (tmp_path / "blob.unknownext").write_bytes(b"\x00\x01")
    (tmp_path / "img.png").write_bytes(b"png")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.html").write_text("docs home")
    (tmp_path / "a b.txt").write_text("spaced")
    return tmp_path


def test_static_index_html_fallback_query_and_percent_decoding(site: Path) -> None:
    assert _split(_serve_static(site, b"GET", b"/"))[2] == b"home"
    assert _split(_serve_static(site, b"GET", b"/docs/"))[2] == b"docs home"
    assert _split(_serve_static(site, b"GET", b"/docs"))[2] == b"docs home"
    assert _split(_serve_static(site, b"GET", b"/about?x=1"))[2] == b"about"
    assert _split(_serve_static(site, b"GET", b"/a%20b.txt"))[2] == b"spaced"


def test_static_content_types_carry_a_charset_only_for_text(site: Path) -> None:
    def kind(path: bytes) -> str:
        return _split(_serve_static(site, b"GET", path))[1]["Content-Type"]

    assert kind(b"/about.html") == "text/html; charset=utf-8"
    assert kind(b"/app.js") in (
        "application/javascript; charset=utf-8",
        "text/javascript; charset=utf-8",
    )
    assert kind(b"/data.json") == "application/json; charset=utf-8"
    assert kind(b"/img.png") == "image/png"
    assert kind(b"/blob.unknownext") == "application/octet-stream"


def test_static_head_answers_the_length_without_a_body(site: Path) -> None:
    status, headers, body = _split(_serve_static(site, b"HEAD", b"/about.html"))
    assert status == "HTTP/1.1 200 OK"
    assert headers["Content-Length"] == "5"
    assert body == b""


def test_static_sites_only_answer_get_and_head(site: Path) -> None:
    for method in (b"POST", b"PUT", b"DELETE", b"get"):
        assert _serve_static(site, method, b"/").startswith(b"HTTP/1.1 405 ")


def test_a_missing_file_gets_the_sites_own_404_page_or_a_default(site: Path) -> None:
    status, headers, body = _split(_serve_static(site, b"GET", b"/nope"))
    assert status == "HTTP/1.1 404 Not Found" and b"404" in body
    (site / "404.html").write_text("custom missing")
    status, headers, body = _split(_serve_static(site, b"GET", b"/nope"))
    assert status == "HTTP/1.1 404 Not Found"
    assert body == b"custom missing"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Length"] == str(len(b"custom missing"))
    head_status, _, head_body = _split(_serve_static(site, b"HEAD", b"/nope"))
    assert head_status == "HTTP/1.1 404 Not Found" and head_body == b""


def test_a_folder_without_an_index_is_not_found(site: Path) -> None:
    (site / "empty").mkdir()
    assert _serve_static(site, b"GET", b"/empty/").startswith(b"HTTP/1.1 404 ")


def test_a_label_merely_ending_in_dev_is_production() -> None:
    assert route_key("mydev.localhost") == ("mydev", "production")
    assert route_key("mydev.dev.localhost") == ("mydev", "staging")


def test_an_existing_file_wins_over_its_html_sibling(site: Path) -> None:
    (site / "notes").write_text("plain notes")
    (site / "notes.html").write_text("html notes")
    assert _split(_serve_static(site, b"GET", b"/notes"))[2] == b"plain notes"
