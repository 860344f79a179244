"""What the credential room says about a URL or an empty key, pinned where the mutation room
runs: a URL quoted in a message never carries its userinfo or query (a token pasted into
`--gateway` must not be echoed), and `OD_API_KEY=""` is refused with what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.gateway import EmptyApiKey, InvalidGatewayUrl, resolve_settings
from opendeploy_plan.gateway._credentials import normalize_gateway, shown_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@gw.example/api?token=abc#f", "https://***@gw.example/api?***#f"),
        ("HTTPS://user:pw@gw.example/api", "HTTPS://***@gw.example/api"),
        ("//od_k123@gw.example/api", "//***@gw.example/api"),
        ("gw.example/api?key=od_k1?x=2", "gw.example/api?***"),
        ("https://gw.example/api", "https://gw.example/api"),
    ],
)
def test_a_quoted_url_hides_its_userinfo_and_query(url: str, shown: str) -> None:
    assert shown_url(url) == repr(shown)


def test_a_quoted_url_is_clipped_at_200_characters() -> None:
    url = "https://gw.example/" + "a" * 300
    assert shown_url(url) == repr(url[:200] + "… (119 more characters not shown)")
    exact = "https://gw.example/" + "b" * 181
    assert len(exact) == 200 and shown_url(exact) == repr(exact)


def test_a_quoted_url_escapes_control_characters() -> None:
    assert shown_url("https://gw.example/\x1b[31mapi") == repr("https://gw.example/\\x1b[31mapi")


def test_a_refused_gateway_url_is_quoted_without_its_secret() -> None:
    with pytest.raises(InvalidGatewayUrl) as refused:
        normalize_gateway("ftp://user:od_ksecret@gw.example/api")
    assert str(refused.value.message).startswith("invalid gateway URL 'ftp://***@gw.example/api'")
    assert "od_ksecret" not in str(refused.value)


def test_an_ipv6_gateway_keeps_its_brackets_and_loses_trailing_slashes() -> None:
    assert normalize_gateway("http://[::1]:8787/api/") == "http://[::1]:8787/api"
    assert normalize_gateway("HTTP://[::1]/api//") == "http://[::1]/api"


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_api_key_is_refused_with_what_to_do(value: str) -> None:
    with pytest.raises(EmptyApiKey) as refused:
        resolve_settings("https://gw.example/api", env={"OD_API_KEY": value})
    assert refused.value.message == "OD_API_KEY is set but empty, so there is no API key to send"
    assert refused.value.hint == (
        "Set OD_API_KEY to your token (check the CI secret is configured), or unset it to use "
        "the saved credential (`odplan login`)."
    )


def test_without_od_api_key_the_saved_credential_is_used(tmp_path: Path) -> None:
    settings = resolve_settings(
        "https://gw.example/api", env={"od_api_key": "", "HOME": str(tmp_path)}, cwd=tmp_path
    )
    assert settings.credential is None  # nothing saved, and a lower-case name is not the key
