"""The pure parts behind the hostile-gateway rules: escaping, secret fragments, free text only."""

from __future__ import annotations

import pytest

from opendeploy_plan.gateway import scrub
from opendeploy_plan.textsafe import clip, escape_controls, escape_tree, safe_text

KEY = "od_k" + "Q7rT9xLm2VbN8cZp4WsY6hJd3FgK1aEu5oIi0Rl2Tn7"


def test_controls_and_bidi_become_visible_escapes_and_letters_stay() -> None:
    text = "a\x1b[2Jb\x1b]0;t\x07c\r\nd\u202ee\x9bf\tg é 漢"
    assert escape_controls(text) == "a\\x1b[2Jb\\x1b]0;t\\x07c\\r\\nd\\u202ee\\x9bf\tg é 漢"
    assert escape_tree({"k\n": ["x\x1b", {"m": "y\x07"}], "n": 3}) == {
        "k\\n": ["x\\x1b", {"m": "y\\x07"}],
        "n": 3,
    }


def test_line_and_paragraph_separators_and_zero_width_marks_are_escaped() -> None:
    # U+2028/U+2029 break a line in many terminals and editors; U+200B/U+FEFF hide text.
    for char in ("\u2028", "\u2029", "\u200b", "\u200f", "\u2066", "\u2069", "\ufeff"):
        escaped = escape_controls(f"a{char}b")
        assert char not in escaped and escaped.startswith("a\\u") and escaped.endswith("b"), char


def test_tabs_are_kept_unless_asked_and_the_escapes_name_the_character() -> None:
    assert escape_controls("a\tb") == "a\tb"
    assert escape_controls("a\tb", keep_tabs=False) == "a\\tb"
    assert escape_controls("\x00\x7f\x9f\u200b") == "\\x00\\x7f\\x9f\\u200b"


def _nested(depth: int, leaf: object, *, as_dict: bool) -> object:
    value = leaf
    for _ in range(depth):
        value = {"k": value} if as_dict else [value]
    return value


@pytest.mark.parametrize("as_dict", [False, True], ids=["lists", "dicts"])
def test_a_tree_is_escaped_to_33_levels_and_cut_below(as_dict: bool) -> None:
    """A hostile answer nested without end is cut (never a RecursionError), at a depth no
    real answer reaches; down to there every string is escaped."""
    assert escape_tree(_nested(33, "x\x1b", as_dict=as_dict)) == _nested(
        33, "x\\x1b", as_dict=as_dict
    )
    assert escape_tree(_nested(33, 7, as_dict=as_dict)) == _nested(33, None, as_dict=as_dict)
    assert escape_tree(_nested(32, 7, as_dict=as_dict)) == _nested(32, 7, as_dict=as_dict)
    assert escape_tree(_nested(5000, 7, as_dict=as_dict)) == _nested(33, None, as_dict=as_dict)


def test_long_text_is_clipped_and_says_so() -> None:
    assert clip("x" * 10, 4) == "xxxx… (6 more characters not shown)"
    assert len(safe_text("y" * 100_000)) < 2100


def test_the_start_or_end_of_a_token_is_redacted_but_words_and_urls_are_not() -> None:
    quoted = f"bad key {KEY[:10]}... or ...{KEY[-7:]}; deployment to https://api.example.com"
    scrubbed = scrub(quoted, [KEY, "deploy-key-1234", "https://api.example.com/v2"])
    assert KEY[:10] not in scrubbed and KEY[-7:] not in scrubbed
    assert "deployment" in scrubbed and "https://api.example.com" in scrubbed
    assert scrub("prod is production", ["production"]) == "prod is ***"


def test_free_text_is_scrubbed_and_env_values_are_read_back_exactly() -> None:
    from opendeploy_plan.gateway._answers import scrub_free_text

    payload = {
        "error_msg": f"failed near {KEY[:12]}",
        "variables": {"API_TOKEN": KEY, "MESSAGE": KEY},
        "logs": [{"message": f"token={KEY}"}, f"line {KEY}"],
    }
    cleaned = scrub_free_text(payload, {KEY})
    assert cleaned["variables"] == {"API_TOKEN": KEY, "MESSAGE": KEY}
    assert KEY[:12] not in cleaned["error_msg"]
    assert cleaned["logs"] == [{"message": "token=***"}, "line ***"]
