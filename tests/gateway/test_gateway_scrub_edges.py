"""Scrubbing secrets out of the gateway's text, at its boundaries (mutation audit, round 6): the
shortest secret scrubbed, the escaped forms a raw JSON body holds, and which quoted starts and
ends of a token count as a leak. The real `scrub`; no server needed.
"""

from __future__ import annotations

import pytest

from opendeploy_plan.gateway._errors import api_error_from_response, scrub, token_like


def test_a_four_character_secret_is_scrubbed_and_a_three_character_one_is_not() -> None:
    assert scrub("k abcd x", ["abcd"]) == "k *** x"
    assert scrub("k abc x", ["abc"]) == "k abc x"


def test_a_secret_is_scrubbed_as_a_raw_json_body_escapes_it() -> None:
    assert scrub('raw ab\\"cd1234 end', ['ab"cd1234']) == "raw *** end"
    assert scrub("raw p\\u00e4ssw\\u00f6rt12 end", ["pässwört12"]) == "raw *** end"
    assert scrub("raw pässwört12 end", ["pässwört12"]) == "raw *** end"


def test_the_longest_secret_is_scrubbed_first() -> None:
    assert scrub("v=abcd1234wxyz", ["abcd", "abcd1234wxyz"]) == "v=***"


@pytest.mark.parametrize(
    ("secret", "like"),
    [
        ("abc123defghi", True),  # exactly 12
        ("abc123defgh", False),  # 11
        ("abc123 defghi", False),
        ("https://a.b/c?d=1", False),
    ],
)
def test_which_secrets_look_like_tokens(secret: str, like: bool) -> None:
    assert token_like(secret) is like


def test_a_quoted_start_of_a_twelve_character_token_is_scrubbed() -> None:
    assert scrub('got "abc123..."', ["abc123defghi"]) == 'got "***..."'
    assert scrub('got "abc123..."', ["abc123defgh"]) == 'got "abc123..."'


def test_a_start_glued_to_a_longer_word_is_not_a_quote_of_the_token() -> None:
    assert scrub("got zabc123...", ["abc123defghi"]) == "got zabc123..."
    assert scrub("got (abc123...", ["abc123defghi"]) == "got (***..."


def test_a_letters_only_fragment_needs_ten_characters() -> None:
    secret = "abcdefghijklmnop"
    assert scrub('got "abcdefghij..."', [secret]) == 'got "***..."'
    assert scrub('got "abcdefghi..."', [secret]) == 'got "abcdefghi..."'


def test_a_quoted_end_of_a_token_is_scrubbed_at_a_word_boundary_only() -> None:
    secret = "abcdefghijklmnop123"
    assert scrub('end ...nop123"', [secret]) == 'end ...***"'
    assert scrub("end ...nop123", [secret]) == "end ...***"
    assert scrub("end ...nop123x", [secret]) == "end ...nop123x"


def test_an_error_reason_and_details_are_scrubbed_of_what_was_sent() -> None:
    token = "od_a" + "Q7rT9x" * 7 + "Z"
    error = api_error_from_response(
        status_code=400,
        body={"error": f"bad token {token[:10]}...", "hint": {"seen": f"{token}"}},
        text="",
        headers={},
        method="POST",
        path="/v1/x",
        secrets=(token,),
    )
    assert token[:10] not in error.reason
    assert error.details["hint"] == {"seen": "***"}
