"""What a load returns around overlays and versions: each environment checked on its own
copy, diagnostics said once, and the positions later checks point at (`LoadResult.locate`)."""

from __future__ import annotations

from pathlib import Path

from opendeploy_plan.diagnostics import Diagnostic
from opendeploy_plan.manifest import LoadResult, load_manifest, load_manifest_bytes

FILE = "opendeploy.yaml"
BASE = "version: 1\nproject:\n  name: shop\n"
WEB = BASE + "services:\n  web:\n    port: 80\n    env:\n      PORT: 8080\n      MODE: x\n"


def load(text: str, environment: str | None = None) -> LoadResult:
    return load_manifest_bytes(
        text.encode(), FILE, Path("/nowhere"), environment, check_sources=False
    )


def summaries(result: LoadResult) -> list[tuple[int, int, str, str]]:
    return [(d.line, d.col, d.path, d.summary) for d in result.diagnostics]


def test_an_overlay_changes_only_its_own_environment() -> None:
    text = (
        WEB
        + "environments:\n  staging:\n    services:\n      web:\n        port: 0\n"
        + "  production:\n    services:\n      web:\n        replicas: 2\n"
    )
    expected = [
        (14, 15, "environments.staging.services.web.port", "must be between 1 and 65535 (got 0)")
    ]
    assert summaries(load(text, "staging")) == expected
    assert summaries(load(text, "production")) == expected


def test_null_removes_a_key_and_the_overlay_goes_on() -> None:
    result = load(
        WEB
        + "  api:\n    replicas: 2\n"
        + "environments:\n  staging:\n    services:\n"
        + "      web:\n        env: null\n        replicas: 3\n"
        + "      api:\n        replicas: null\n        internal_only: true\n",
        "staging",
    )
    assert result.diagnostics == []
    assert result.manifest is not None
    web, api = result.manifest.services["web"], result.manifest.services["api"]
    assert (web.env, web.replicas, web.port) == ({}, 3, 80)
    assert (api.replicas, api.internal_only) == (1, True)


def test_values_the_overlay_does_not_touch_keep_their_positions() -> None:
    result = load(
        WEB
        + "  api:\n    replicas: 0\n"
        + "environments:\n  staging:\n    services:\n      web:\n        env: {MODE: y}\n",
        "staging",
    )
    assert summaries(result) == [(11, 15, "services.api.replicas", "must be at least 1 (got 0)")]


def test_an_error_of_the_base_is_said_once_and_another_environments_own_errors_still_shown() -> (
    None
):
    result = load(
        WEB
        + "  api:\n    replicas: 0\n  worker:\n    type: worker\n"
        + "environments:\n  staging:\n    services:\n"
        + "      worker:\n        replicas: 0\n      web:\n        after: [gone]\n"
    )
    assert summaries(result) == [
        (11, 15, "services.api.replicas", "must be at least 1 (got 0)"),
        (18, 19, "environments.staging.services.worker.replicas", "must be at least 1 (got 0)"),
        (20, 17, "environments.staging.services.web.after[0]", "unknown service 'gone'"),
    ]


def test_an_overlay_naming_an_unknown_service_says_where_to_declare_it() -> None:
    result = load(WEB + "environments:\n  staging:\n    services:\n      wbe: {}\n")
    assert result.diagnostics == [
        Diagnostic(
            FILE,
            13,
            7,
            "error",
            "environments.staging.services.wbe",
            "unknown service 'wbe'; did you mean 'web'?",
        )
    ]
    assert result.diagnostics[0].detail == (
        "An overlay changes services of the base manifest; declare the service under the "
        "top-level `services` first."
    )


def test_locate_points_at_the_selected_environments_values() -> None:
    text = WEB + "environments:\n  staging:\n    services:\n      web:\n        env: {MODE: y}\n"
    production = load(text)
    assert production.locate("services.web.env.PORT") == (8, 13)
    assert production.locate("services.web.env.MODE") == (9, 13)
    assert production.locate("services.web.env.MISSING") == (8, 7)  # the nearest ancestor
    assert production.locate("") == (1, 1)
    staging = load(text, "staging")
    assert staging.locate("services.web.env.MODE") == (14, 21)
    assert staging.locate("services.web.env.PORT") == (8, 13)  # merged: still the base value
    assert staging.locate("services.web.port") == (6, 11)


def test_locate_without_positions_is_the_whole_file(tmp_path: Path) -> None:
    result = load_manifest(tmp_path / "missing.yaml")
    assert result.locate("services.web") == (0, 0)
    assert load("- a\n").locate("services") == (0, 0)


def test_only_textual_places_turn_unquoted_numbers_into_text() -> None:
    result = load(
        BASE
        + "services:\n  web:\n"
        + "    source: {git: 'https://example.com/a.git', branch: 2024}\n"
        + "    env: {PORT: 8080}\n"
    )
    assert summaries(result) == [
        (6, 56, "services.web.source.branch", "must be a string (got integer 2024)")
    ]


def test_a_missing_version_is_one_error_and_the_rest_is_still_checked() -> None:
    result = load("project:\n  name: shop\nservices:\n  web:\n    port: 0\n")
    assert summaries(result) == [
        (1, 1, "version", "is required: add `version: 1` at the top"),
        (5, 11, "services.web.port", "must be between 1 and 65535 (got 0)"),
    ]


def test_another_version_stops_the_check_there() -> None:
    for written, shown in (("2", "integer 2"), ("'1'", "string '1'"), ("1.0", "number 1.0")):
        result = load(f"version: {written}\nproject: {{}}\nservices: 5\n")
        assert summaries(result) == [
            (
                1,
                10,
                "version",
                f"unsupported format version {shown}; this odplan reads version 1",
            )
        ]
        assert result.environment == "production"
    unreadable = load("version: " + "9" * 101 + "\nproject: {}\n")
    assert [d.path for d in unreadable.diagnostics] == ["version"]
    assert unreadable.environment == "production"


def test_a_top_level_that_is_no_mapping_selects_production() -> None:
    for text in ("- staging\n", "staging\n", "2024-13-45\n"):
        result = load(text, None)
        assert len(result.diagnostics) == 1
        assert result.environment == "production"
    assert summaries(load("- staging\n")) == [
        (1, 1, "", "the top level must be a mapping (got a list)")
    ]
