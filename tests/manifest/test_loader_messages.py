"""How the loader words a wrong value or key: the value shown, hints, suggestions, details."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.diagnostics import Diagnostic
from opendeploy_plan.manifest import LoadResult, load_manifest_bytes

FILE = "opendeploy.yaml"
BASE = "version: 1\nproject:\n  name: shop\n"
WEB = BASE + "services:\n  web:\n"  # the service's keys go on line 6, column 5


def load(text: str) -> LoadResult:
    return load_manifest_bytes(text.encode(), FILE, Path("/nowhere"), check_sources=False)


def lines(text: str) -> list[str]:
    return [d.format() for d in load(text).diagnostics]


_CHOICES = "must be one of web, worker, cron, static"


@pytest.mark.parametrize(
    ("key", "written", "message"),
    [
        ("language", "{a: 1}", "must be a string (got a mapping)"),
        ("language", "[1]", "must be a string (got a list)"),
        ("replicas", "null", "must be an integer (got null)"),
        ("language", "true", "must be a string (got boolean true)"),
        ("language", "1.5", "must be a string (got number 1.5)"),
        ("language", "2024-01-01", "must be a string (got date 2024-01-01)"),
        ("language", "2024-01-01 10:30:00", "must be a string (got date 2024-01-01T10:30:00)"),
        ("type", "a" * 40, f"{_CHOICES} (got string '{'a' * 40}')"),
        ("type", "b" * 41, f"{_CHOICES} (got string '{'b' * 37}...')"),
    ],
)
def test_the_wrong_value_is_described_briefly(key: str, written: str, message: str) -> None:
    [line] = lines(WEB + f"    {key}: {written}\n")
    assert line == f"{FILE}:6:{len(key) + 7}: error: services.web.{key}: {message}"


def test_a_wrong_choice_lists_the_choices_whatever_the_value() -> None:
    assert lines(WEB + "    type: 5\n    env_policy: merj\n") == [
        f"{FILE}:6:11: error: services.web.type: must be one of web, worker, cron, static "
        "(got integer 5)",
        f"{FILE}:7:17: error: services.web.env_policy: must be one of replace, merge "
        "(got string 'merj'); did you mean 'merge'?",
    ]


def test_our_own_rules_are_printed_as_written() -> None:
    assert lines(WEB + "    health_check_path: healthz\n    port: 0\n") == [
        f"{FILE}:6:24: error: services.web.health_check_path: must start with '/' (got 'healthz')",
        f"{FILE}:7:11: error: services.web.port: must be between 1 and 65535 (got 0)",
    ]


def test_an_unknown_key_gets_a_suggestion_or_a_hint_or_nothing() -> None:
    assert lines(
        WEB
        + "    enviroments: 1\n"
        + "    environment: staging\n"
        + "    colour: blue\n"
        + "environmnts: {}\n"
    ) == [
        # `environments` is suggested only at the top, where it is a key.
        f"{FILE}:6:5: error: services.web.enviroments: unknown key; did you mean 'env_files'?",
        f"{FILE}:7:5: error: services.web.environment: unknown key (a service's environment "
        "is chosen for the whole manifest: top-level `environment` or -e)",
        f"{FILE}:8:5: error: services.web.colour: unknown key",
        f"{FILE}:9:1: error: environmnts: unknown key; did you mean 'environments'?",
    ]


def test_unknown_keys_under_a_database_are_suggested_from_its_fields() -> None:
    assert lines(
        BASE
        + "dependencies:\n  db:\n    type: postgres\n    usrname: app\n    password: x\n"
        + "services:\n  web:\n    uses: [db]\n"
    ) == [
        f"{FILE}:7:5: error: dependencies.db.usrname: unknown key; did you mean 'username'?",
        f"{FILE}:8:5: error: dependencies.db.password: unknown key (passwords are never "
        "written in the manifest: the platform generates them and injects them into every "
        "service that `uses` the dependency)",
    ]


def test_a_value_that_cannot_be_read_is_reported_once() -> None:
    for text in (
        "1" * 101,
        "2024-13-45\n",
        BASE + "services:\n  web: {}\nenvironments: 2024-13-45\n",
        BASE + "services:\n  web: {}\nenvironments:\n  staging: 2024-13-45\n",
        WEB + "    port: 2024-13-45\n",
    ):
        result = load(text)
        assert len(result.diagnostics) == 1, result.diagnostics
        assert result.manifest is None
    assert lines("2024-13-45\n") == [
        f"{FILE}:1:1: error: unsupported YAML value: month must be in 1..12"
    ]


def test_checks_across_values_keep_their_detail_and_position() -> None:
    result = load(
        BASE
        + "dependencies:\n  db:\n    type: postgres\n"
        + "services:\n  web:\n    after: [web, api]\n"
    )
    assert result.diagnostics == [
        Diagnostic(
            FILE, 5, 3, "warning", "dependencies.db", "dependency 'db' is not used by any service"
        ),
        Diagnostic(
            FILE, 9, 13, "error", "services.web.after[0]", "service 'web' cannot come after itself"
        ),
        Diagnostic(FILE, 9, 18, "error", "services.web.after[1]", "unknown service 'api'"),
    ]
    assert [d.detail for d in result.diagnostics] == [
        "Add it to a service's `uses` to inject its connection variables.",
        "",
        "`after` lists sibling services; databases go in `uses`.",
    ]
