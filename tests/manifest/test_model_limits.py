"""Each value's own limits: the last value accepted, the first refused, and the exact message.

The boundaries come from the platform (ports, int32 replicas, int64 quantities, 32 KiB env
values); a check off by one either refuses a valid manifest or lets the gateway fail later.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.manifest import load_manifest_bytes

BASE = "version: 1\nproject:\n  name: shop\nservices:\n  web:\n"


def problems(service_yaml: str, tmp_path: Path) -> list[tuple[int, int, str, str]]:
    """`(line, col, path, summary)` of every diagnostic for one service `web`."""
    result = load_manifest_bytes(
        (BASE + service_yaml).encode(), "m.yaml", tmp_path, check_sources=False
    )
    return [(d.line, d.col, d.path, d.summary) for d in result.diagnostics]


def accepted(service_yaml: str, tmp_path: Path) -> bool:
    return problems(service_yaml, tmp_path) == []


def summaries(service_yaml: str, tmp_path: Path) -> list[str]:
    return [summary for _, _, _, summary in problems(service_yaml, tmp_path)]


# --- URL paths -------------------------------------------------------------------------------


def test_a_health_check_path_starting_with_a_slash_is_accepted(tmp_path: Path) -> None:
    assert accepted("    health_check_path: /healthz\n    readiness_path: /\n", tmp_path)


def test_a_health_check_path_without_a_leading_slash_is_refused_at_its_value(
    tmp_path: Path,
) -> None:
    assert problems("    health_check_path: healthz\n", tmp_path) == [
        (6, 24, "services.web.health_check_path", "must start with '/' (got 'healthz')")
    ]


def test_a_readiness_path_with_whitespace_is_refused(tmp_path: Path) -> None:
    assert summaries("    readiness_path: '/ready now'\n", tmp_path) == [
        "must not contain whitespace (got '/ready now')"
    ]


# --- ports and replicas ----------------------------------------------------------------------


def test_the_highest_port_is_accepted_and_the_next_is_refused(tmp_path: Path) -> None:
    assert accepted("    port: 65535\n", tmp_path)
    assert accepted("    port: 1\n", tmp_path)
    assert summaries("    port: 65536\n", tmp_path) == ["must be between 1 and 65535 (got 65536)"]


def test_one_replica_is_accepted_when_written(tmp_path: Path) -> None:
    assert accepted("    replicas: 1\n", tmp_path)


def test_zero_replicas_are_refused(tmp_path: Path) -> None:
    assert problems("    replicas: 0\n", tmp_path) == [
        (6, 15, "services.web.replicas", "must be at least 1 (got 0)")
    ]


def test_replicas_stop_at_the_int32_maximum(tmp_path: Path) -> None:
    assert accepted("    replicas: 2147483647\n", tmp_path)
    assert summaries("    replicas: 2147483648\n", tmp_path) == [
        "must be at most 2147483647 (got 2147483648)"
    ]


def test_a_huge_replica_count_is_shortened_in_the_message_only_past_24_digits(
    tmp_path: Path,
) -> None:
    twenty_four = "1" + "0" * 23
    twenty_five = "1" + "0" * 24
    assert summaries(f"    replicas: {twenty_four}\n", tmp_path) == [
        f"must be at most 2147483647 (got {twenty_four})"
    ]
    assert summaries(f"    replicas: {twenty_five}\n", tmp_path) == [
        f"must be at most 2147483647 (got {twenty_five[:20]}… (25 digits))"
    ]


# --- env values ------------------------------------------------------------------------------


def test_an_env_value_of_exactly_32_kib_is_accepted(tmp_path: Path) -> None:
    assert accepted(f"    env:\n      BIG: {'x' * 32768}\n", tmp_path)
    assert summaries(f"    env:\n      BIG: {'x' * 32769}\n", tmp_path) == [
        "values may be at most 32768 bytes (32 KiB) (got 32769)"
    ]


# --- resources -------------------------------------------------------------------------------


def resources(kind: str, request: str | None, limit: str | None) -> str:
    text = f"    resources:\n      {kind}:\n"
    if request is not None:
        text += f"        request: '{request}'\n"
    if limit is not None:
        text += f"        limit: '{limit}'\n"
    return text


def test_the_largest_cpu_the_platform_can_store_is_accepted(tmp_path: Path) -> None:
    # int64 millicores: 9223372036854775.807 cores is exactly 2**63 - 1 millicores.
    assert accepted(resources("cpu", None, "9223372036854775.807"), tmp_path)
    assert accepted(resources("cpu", None, "9223372036854775"), tmp_path)
    assert summaries(resources("cpu", None, "9223372036854775.808"), tmp_path) == [
        "must be at most 9223372036854775 cores (got '9223372036854775.808')"
    ]


def test_memory_must_be_more_than_zero_bytes(tmp_path: Path) -> None:
    assert summaries(resources("memory", None, "0"), tmp_path) == ["must be more than 0 (got '0')"]
    assert accepted(resources("memory", None, "1"), tmp_path)


def test_the_largest_memory_the_platform_can_store_is_accepted(tmp_path: Path) -> None:
    assert accepted(resources("memory", None, "9223372036854775807"), tmp_path)
    assert summaries(resources("memory", None, "9223372036854775808"), tmp_path) == [
        "must be at most 9223372036854775807 bytes, about 8Ei (got '9223372036854775808')"
    ]


@pytest.mark.parametrize("kind", ["cpu", "memory"])
def test_a_request_alone_or_a_limit_alone_is_accepted(kind: str, tmp_path: Path) -> None:
    assert accepted(resources(kind, "1", None), tmp_path)
    assert accepted(resources(kind, None, "1"), tmp_path)


@pytest.mark.parametrize("kind", ["cpu", "memory"])
def test_a_request_equal_to_its_limit_is_accepted(kind: str, tmp_path: Path) -> None:
    assert accepted(resources(kind, "2", "2"), tmp_path)
    assert summaries(resources(kind, "3", "2"), tmp_path) == [
        "request (3) must not be more than limit (2)"
    ]


# --- Git sources -----------------------------------------------------------------------------


def git(url: str) -> str:
    return f"    source:\n      git: '{url}'\n"


CREDENTIALS = (
    "must not contain credentials; put the token in an environment variable and name it "
    "with token_env"
)


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/org/repo.git",
        "http://git.example.com/repo.git",
        "ssh://git@example.com/org/repo.git",
        "ssh://example.com:2222/org/repo.git",
        "git@github.com:org/repo.git",
        # An '@' after the host belongs to the path, not to credentials.
        "https://example.com/org@team/repo.git",
        "https://example.com/a://b@c/repo.git",
    ],
)
def test_git_urls_without_credentials_are_accepted(url: str, tmp_path: Path) -> None:
    assert accepted(git(url), tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "https://ghp_token@github.com/org/repo.git",
        "https://user:ghp_token@github.com/org/repo.git",
        "http://ghp_token@git.example.com/repo.git",
        "ssh://git:hunter2@example.com/org/repo.git",
        # The password may itself hold an '@': the credentials end at the last one.
        "ssh://git:p@ss@example.com/org/repo.git",
    ],
)
def test_git_urls_with_credentials_are_refused_without_echoing_them(
    url: str, tmp_path: Path
) -> None:
    found = problems(git(url), tmp_path)
    assert found == [(7, 12, "services.web.source.git", CREDENTIALS)]


# --- env keys --------------------------------------------------------------------------------


def test_an_env_key_starting_with_a_digit_is_refused_at_the_key(tmp_path: Path) -> None:
    assert problems("    env:\n      1ST: x\n", tmp_path) == [
        (
            7,
            7,
            "services.web.env.1ST",
            "'1ST' is not a valid variable name (letters, digits and '_', "
            "not starting with a digit)",
        )
    ]


def test_env_keys_stop_at_128_characters(tmp_path: Path) -> None:
    assert accepted(f"    env:\n      {'K' * 128}: x\n", tmp_path)
    assert summaries(f"    env:\n      {'K' * 129}: x\n", tmp_path) == [
        "variable names may be at most 128 characters (got 129)"
    ]


# --- relative paths --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["C:/docker/Dockerfile", "c:Dockerfile"])
def test_a_windows_drive_path_is_refused_as_absolute(path: str, tmp_path: Path) -> None:
    assert summaries(f"    dockerfile: '{path}'\n", tmp_path) == [
        f"must be a path relative to the manifest, not an absolute path (got {path!r})"
    ]
