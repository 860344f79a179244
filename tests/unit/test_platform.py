"""The platform rules module: quantities, subdomains, tokens, URLs."""

from __future__ import annotations

import pytest

from opendeploy_plan import platform


@pytest.mark.parametrize(
    ("text", "millicores"),
    [("500m", 500), ("1", 1000), ("1.5", 1500), ("2", 2000), ("250m", 250), (".5", 500)],
)
def test_cpu_quantities(text: str, millicores: int) -> None:
    assert platform.cpu_millicores(text) == millicores


@pytest.mark.parametrize(
    ("text", "size"),
    [("512Mi", 512 * 1024**2), ("1Gi", 1024**3), ("1G", 10**9), ("128974848", 128974848)],
)
def test_memory_quantities(text: str, size: int) -> None:
    assert platform.memory_bytes(text) == size


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "5 Gi", "1Xi", "-1"])
def test_bad_quantities_raise(text: str) -> None:
    with pytest.raises(ValueError):
        platform.parse_quantity(text)


@pytest.mark.parametrize(
    ("prefix", "problem"),
    [
        ("my-app", None),
        ("ab", None),
        ("a", "characters long"),
        ("a" * 33, "characters long"),
        ("-app", "may not start or end"),
        ("app-", "may not start or end"),
        ("My-App", "may contain only"),
        ("api", "reserved"),
        ("grafana", "reserved"),
    ],
)
def test_subdomain_rules(prefix: str, problem: str | None) -> None:
    result = platform.subdomain_problem(prefix)
    if problem is None:
        assert result is None
    else:
        assert result is not None and problem in result


def test_token_kinds() -> None:
    assert platform.token_kind("od_k" + "A" * 43) == "k"
    assert platform.token_kind("od_a" + "z9" * 21 + "x") == "a"
    assert platform.token_kind("od_x" + "A" * 43) is None
    assert platform.token_kind("od_k" + "A" * 42) is None
    assert platform.token_kind("od_k" + "A" * 42 + "!") is None


def test_bind_url_derived_from_gateway_host() -> None:
    url = platform.bind_url("https://dashboard.dev.opendeploy.dev/api", "g-1", "abc")
    assert url == "https://dashboard.dev.opendeploy.dev/guest/g-1?h=abc"


def test_auto_domains_per_environment() -> None:
    assert platform.auto_domain("web", "production") == "web.opendeploy.run"
    assert platform.auto_domain("web", "staging") == "web.dev.opendeploy.run"
