"""Streams, answers and request bodies (mutation audit, round 6): the line and event caps of an
event stream, events without a closing blank line, which build-log messages end a stream,
which values count as secrets in later free text, and what a request body leaves out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from opendeploy_plan.gateway import InvalidResponse
from opendeploy_plan.gateway._answers import env_secrets, remembered, scrub_free_text
from opendeploy_plan.gateway._bodies import omit_unknown, secret_values
from opendeploy_plan.gateway._models import SseEvent
from opendeploy_plan.gateway._sse import MAX_EVENT_CHARS, bounded_lines, parse_sse
from opendeploy_plan.gateway._streams import is_end, read_log_message


async def _texts(*chunks: str) -> AsyncIterator[str]:
    for chunk in chunks:
        yield chunk


async def _lines(*chunks: str, limit: int = 10) -> list[str]:
    return [line async for line in bounded_lines(_texts(*chunks), limit)]


async def _events(*lines: str) -> list[SseEvent]:
    async def source() -> AsyncIterator[str]:
        for line in lines:
            yield line

    return [event async for event in parse_sse(source())]


# --- line and event caps --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_lines_split_on_every_line_end_and_a_last_unended_line_is_kept() -> None:
    assert await _lines("a\r\nb\rc\n", "d", "e") == ["a", "b", "c", "de"]
    assert await _lines("a\n", "") == ["a"]


@pytest.mark.anyio
async def test_a_complete_line_at_the_limit_passes_and_one_longer_is_refused() -> None:
    assert await _lines("x" * 10 + "\n") == ["x" * 10]
    with pytest.raises(InvalidResponse, match="longer than"):
        await _lines("x" * 11 + "\n")


@pytest.mark.anyio
async def test_an_unended_line_past_the_limit_is_refused_before_it_ends() -> None:
    assert await _lines("x" * 10) == ["x" * 10]
    with pytest.raises(InvalidResponse, match="longer than"):
        await _lines("x" * 6, "x" * 5)


@pytest.mark.anyio
async def test_an_event_past_the_size_cap_is_refused() -> None:
    half = "y" * (MAX_EVENT_CHARS // 2)
    with pytest.raises(InvalidResponse, match="event over"):
        await _events(f"data: {half}", f"data: {half}", "")
    fits = "z" * (MAX_EVENT_CHARS // 2 - 1)
    [event] = await _events(f"data: {fits}", f"data: {fits}", "")
    assert len(event.data) == 2 * len(fits) + 1


@pytest.mark.anyio
async def test_the_size_cap_starts_again_with_each_event() -> None:
    part = "w" * (MAX_EVENT_CHARS // 2)
    events = await _events(f"data: {part}", "", f"data: {part}", "", f"data: {part}", "")
    assert len(events) == 3


# --- event fields ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_event_without_a_closing_blank_line_is_still_delivered() -> None:
    [event] = await _events("event: log", "id: 7", "data: last words")
    assert (event.event, event.id, event.data) == ("log", "7", "last words")


@pytest.mark.anyio
async def test_event_fields_are_read_as_the_wire_format_says() -> None:
    events = await _events(
        ": a comment",
        "event:",
        "data:  two spaces",
        "data:no space",
        "",
        "event: custom",
        "data: x",
        "",
        "",
        "data: y",
        "",
    )
    assert [(e.event, e.data) for e in events] == [
        ("message", " two spaces\nno space"),
        ("custom", "x"),
        ("message", "y"),  # the event name does not carry over to the next event
    ]


@pytest.mark.anyio
async def test_event_data_and_names_are_escaped() -> None:
    [event] = await _events("event: a\x1bb", 'data: {"m": "x\\u001b[2Jy"}', "")
    assert event.event == "a\\x1bb"
    assert "\x1b" not in event.data and "\\\\x1b" in event.data


# --- build-log messages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "END"},
        {"event": " Done "},
        {"type": "complete"},
        {"type": "closed"},
        {"type": "terminal"},
        {"end": True},
        {"done": True},
    ],
)
def test_an_end_message_ends_the_stream(payload: dict[str, object]) -> None:
    assert is_end(payload)


@pytest.mark.parametrize(
    "payload", [{"type": "log"}, {"end": "true"}, {"done": 1}, {"event": "ending"}, {}]
)
def test_other_messages_do_not_end_it(payload: dict[str, object]) -> None:
    assert not is_end(payload)


def test_a_log_message_is_read_from_json_or_text() -> None:
    line, ended = read_log_message('{"line": "step 1", "ts": 5, "level": "info", "phase": "b"}')
    assert not ended and line is not None
    assert (line.message, line.timestamp, line.level, line.phase) == ("step 1", "5", "info", "b")
    line, ended = read_log_message('{"message": "m", "line": "l", "timestamp": {"x": 1}}')
    assert line is not None and line.message == "m" and line.timestamp is None
    assert read_log_message("   ") == (None, False)
    assert read_log_message('{"type": "eof"}') == (None, True)
    assert read_log_message('{"message": 3}') == (None, False)
    text, ended = read_log_message("{not json\r\n")
    assert text is not None and text.message == "{not json" and not ended


# --- secrets in answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("abc12345", True),
        ("abc1234", False),
        ("abcdefgh", False),
        ("abcdefghij-", True),
        ("production", False),
        ("12345678", True),
    ],
)
def test_which_values_are_remembered_as_secrets(value: str, kept: bool) -> None:
    assert remembered(value) is kept


def test_env_maps_anywhere_in_an_answer_give_their_secrets() -> None:
    payload = {
        "services": [
            {"variables": {"DB": "pw-0123456", "MODE": "production", "N": 5}},
            {"runtime_variables": {"T": "tok_abcdef99"}},
        ],
        "build_variables": {"B": "b-9999999"},
        "env_vars": {"E": "e-8888888"},
        "env": {"X": "x-7777777"},
        "other": {"K": "k-6666666"},
    }
    assert env_secrets(payload) == {
        "pw-0123456",
        "tok_abcdef99",
        "b-9999999",
        "e-8888888",
        "x-7777777",
    }


def test_only_free_text_is_scrubbed_and_data_is_kept_exactly() -> None:
    secret = "s3cr3t-value-xyz"
    payload = {
        "message": f"failed with {secret}",
        "line": f"echo {secret}",
        "logs": [{"text": f"a {secret}"}, f"b {secret}"],
        "env": {"K": secret},
        "name": secret,
    }
    scrubbed = scrub_free_text(payload, {secret})
    assert scrubbed["message"] == "failed with ***"
    assert scrubbed["line"] == "echo ***"
    assert scrubbed["logs"] == [{"text": "a ***"}, "b ***"]
    assert scrubbed["env"] == {"K": secret}
    assert scrubbed["name"] == secret


# --- request bodies -------------------------------------------------------------------------------


def test_the_secrets_a_body_carries() -> None:
    spec = {
        "name": "web",
        "runtime_variables": {"A": "ra", "N": 5},
        "build_variables": {"B": "rb"},
        "variables": {"C": "rc"},
        "env_vars": {"D": "rd"},
        "password": "pw",
        "token": "tk",
        "git_token": "gt",
        "env": {"E": "not-a-secret-key"},
    }
    assert sorted(secret_values(spec)) == sorted(["ra", "5", "rb", "rc", "rd", "pw", "tk", "gt"])


def test_unknown_values_are_left_out_but_env_maps_are_kept_whole() -> None:
    body = {
        "name": "web",
        "port": 0,
        "language": "",
        "framework": None,
        "replicas": 0,
        "enabled": False,
        "env": {"EMPTY": "", "NONE": None},
        "runtime_variables": {},
        "nested": {"port": 0, "kept": 1, "blank": ""},
        "list": [{"port": 0, "a": "b"}, "plain", ""],
    }
    assert omit_unknown(body) == {
        "name": "web",
        "replicas": 0,
        "enabled": False,
        "env": {"EMPTY": "", "NONE": None},
        "runtime_variables": {},
        "nested": {"kept": 1},
        "list": [{"a": "b"}, "plain", ""],
    }
    assert omit_unknown({"port": 8080})["port"] == 8080
