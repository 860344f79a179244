"""Making the gateway's text printable, at its boundaries (mutation audit, round 6): every C0
and C1 control and bidi/format character escaped, tabs kept unless asked, the clip exactly at
its limit, and JSON trees escaped in keys too and cut past their depth cap.
"""

from __future__ import annotations

import pytest

from opendeploy_plan.textsafe import (
    MAX_MESSAGE_CHARS,
    clip,
    escape_controls,
    escape_tree,
    safe_text,
)


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        ("\x00", "\\x00"),
        ("\x07", "\\x07"),
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\x1b", "\\x1b"),
        ("\x1f", "\\x1f"),
        ("\x7f", "\\x7f"),
        ("\x80", "\\x80"),
        ("\x85", "\\x85"),
        ("\x9b", "\\x9b"),
        ("\x9f", "\\x9f"),
        ("\u200b", "\\u200b"),
        ("\u200f", "\\u200f"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
        ("\u202a", "\\u202a"),
        ("\u202e", "\\u202e"),
        ("\u2066", "\\u2066"),
        ("\u2069", "\\u2069"),
        ("\ufeff", "\\ufeff"),
    ],
)
def test_every_unsafe_character_is_shown_as_an_escape(char: str, shown: str) -> None:
    assert escape_controls(f"a{char}b") == f"a{shown}b"


@pytest.mark.parametrize("char", ["\xa0", "é", "\u2030", "\u2065", "\u206a", "\u200a", "ü", " "])
def test_printable_neighbours_are_kept(char: str) -> None:
    assert escape_controls(f"a{char}b") == f"a{char}b"


def test_a_tab_is_kept_unless_asked_otherwise() -> None:
    assert escape_controls("a\tb") == "a\tb"
    assert escape_controls("a\tb", keep_tabs=False) == "a\\tb"
    assert escape_controls("a\nb", keep_tabs=False) == "a\\nb"


def test_the_clip_is_exact_at_its_limit() -> None:
    assert clip("x" * 10, 10) == "x" * 10
    assert clip("x" * 11, 10) == "x" * 10 + "… (1 more characters not shown)"
    assert len(clip("y" * MAX_MESSAGE_CHARS)) == MAX_MESSAGE_CHARS
    assert safe_text("\x1b" * 3, 2) == "\\x1b\\x1b… (1 more characters not shown)"


def test_a_tree_is_escaped_in_keys_and_values_and_keeps_other_types() -> None:
    tree = {"k\x1b": ["v\n", 1, None, True, {"\u202e": 2.5}]}
    assert escape_tree(tree) == {"k\\x1b": ["v\\n", 1, None, True, {"\\u202e": 2.5}]}


def test_a_tree_is_cut_below_its_depth_cap() -> None:
    deep: object = "leaf\n"
    for _ in range(40):
        deep = [deep]
    cut = escape_tree(deep)
    depth = 0
    while isinstance(cut, list):
        cut = cut[0]
        depth += 1
    assert depth == 33 and cut is None
    shallow: object = "leaf\n"
    for _ in range(32):
        shallow = [shallow]
    kept = escape_tree(shallow)
    for _ in range(32):
        assert isinstance(kept, list)
        kept = kept[0]
    assert kept == "leaf\\n"
