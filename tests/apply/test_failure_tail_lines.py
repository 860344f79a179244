"""The failure tail shows a log row as its text: an empty line stays an empty line, never the
row's dict (`{'timestamp': …, 'message': ''}` was printed for every blank npm line)."""

from __future__ import annotations

from opendeploy_plan.apply.handlers.deployment import _log_line


def test_a_row_is_shown_as_its_message_even_when_empty() -> None:
    assert _log_line({"timestamp": "t", "level": "info", "message": ""}) == ""
    assert _log_line({"timestamp": "t", "message": "npm ERR! code E404"}) == "npm ERR! code E404"


def test_the_other_documented_text_fields_and_plain_strings() -> None:
    assert _log_line({"line": "built"}) == "built"
    assert _log_line({"msg": "x"}) == "x"
    assert _log_line("plain") == "plain"
    assert _log_line({"timestamp": "t"}) == "{'timestamp': 't'}"
