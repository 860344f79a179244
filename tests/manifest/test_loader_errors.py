"""Whole-file and environment errors of the loader: exact text, position, path and detail."""

from __future__ import annotations

from pathlib import Path

from opendeploy_plan.diagnostics import Diagnostic
from opendeploy_plan.manifest import LoadResult, load_manifest, load_manifest_bytes

FILE = "opendeploy.yaml"
BASE = "version: 1\nproject:\n  name: shop\n"


def load(text: str, environment: str | None = None) -> LoadResult:
    return load_manifest_bytes(
        text.encode(), FILE, Path("/nowhere"), environment, check_sources=False
    )


def only(result: LoadResult) -> Diagnostic:
    [diagnostic] = result.diagnostics
    return diagnostic


def test_a_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    path = tmp_path / "opendeploy.yaml"
    result = load_manifest(path)
    assert result.diagnostics == [
        Diagnostic(
            str(path),
            0,
            0,
            "error",
            "",
            "no such file; create one with `odplan init` or pass -f FILE",
        )
    ]
    assert only(result).detail == ""
    assert result.manifest is None and result.manifest_dir == tmp_path


def test_a_folder_instead_of_a_file_says_to_pass_the_file(tmp_path: Path) -> None:
    result = load_manifest(tmp_path)
    assert result.diagnostics == [
        Diagnostic(
            str(tmp_path), 0, 0, "error", "", "is a directory; pass the manifest file with -f FILE"
        )
    ]
    assert result.manifest_dir == tmp_path.parent


def test_an_unreadable_path_gives_the_system_reason_only(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not a folder\n")
    path = tmp_path / "plain" / "opendeploy.yaml"
    result = load_manifest(path)
    assert result.diagnostics == [
        Diagnostic(str(path), 0, 0, "error", "", "cannot be read: Not a directory")
    ]
    assert result.manifest_dir == tmp_path / "plain"


def test_check_sources_false_skips_the_source_folders(tmp_path: Path) -> None:
    path = tmp_path / "opendeploy.yaml"
    path.write_text(BASE + "services:\n  web:\n    source: gone\n")
    assert load_manifest(path, check_sources=False).ok
    [error] = load_manifest(path).errors
    assert (error.path, error.summary) == (
        "services.web.source",
        "folder 'gone' does not exist next to the manifest",
    )
    assert error.detail == f"Looked for {tmp_path / 'gone'}."


def test_an_unknown_environment_from_the_command_line_is_a_whole_file_error() -> None:
    result = load(BASE + "services:\n  web: {}\nenvironment: staging\n", environment="prod")
    assert result.diagnostics == [
        Diagnostic(
            FILE,
            0,
            0,
            "error",
            "",
            "unknown environment 'prod' (from -e or OD_ENVIRONMENT); use production or staging",
        )
    ]
    assert result.manifest is None
    assert result.environment == "staging"  # the manifest's own choice still stands


def test_the_selected_environment_comes_from_e_then_the_manifest_then_production() -> None:
    assert load(BASE + "environment: staging\n").environment == "staging"
    assert load(BASE + "environment: staging\n", "production").environment == "production"
    assert load(BASE).environment == "production"
    manifest = load(BASE + "environment: staging\n").manifest
    assert manifest is not None and manifest.environment == "staging"


def test_an_unknown_declared_environment_is_reported_and_production_is_selected() -> None:
    for written in ("prod", "5", "[staging]"):
        result = load(BASE + f"environment: {written}\n")
        assert result.environment == "production"
        assert [d.path for d in result.errors] == ["environment"]
        assert result.errors[0].line == 4


def test_an_unknown_overlay_name_is_reported_at_its_key_and_the_rest_is_still_read() -> None:
    result = load(
        BASE
        + "services:\n  web: {}\n"
        + "environments:\n"
        + "  qa:\n    services: {}\n"
        + "  prodution:\n    services: {}\n"
        + "  staging:\n    services:\n      web:\n        port: 0\n"
    )
    assert result.diagnostics == [
        Diagnostic(
            FILE,
            7,
            3,
            "error",
            "environments.qa",
            "unknown environment 'qa'; use production or staging",
        ),
        Diagnostic(
            FILE,
            9,
            3,
            "error",
            "environments.prodution",
            "unknown environment 'prodution'; did you mean 'production'?",
        ),
        Diagnostic(
            FILE,
            14,
            15,
            "error",
            "environments.staging.services.web.port",
            "must be between 1 and 65535 (got 0)",
        ),
    ]


def test_an_empty_overlay_changes_nothing() -> None:
    result = load(BASE + "services:\n  web: {}\nenvironments:\n  staging:\n", "staging")
    assert result.diagnostics == []
    assert result.manifest is not None and result.manifest.environment == "staging"


def test_an_overlay_that_is_not_a_mapping_is_reported_and_the_next_one_still_read() -> None:
    result = load(
        BASE
        + "services:\n  web: {}\n"
        + "environments:\n"
        + "  staging: [services]\n"
        + "  production:\n    services:\n      web:\n        replicas: 0\n"
    )
    assert result.diagnostics == [
        Diagnostic(FILE, 7, 12, "error", "environments.staging", "must be a mapping (got a list)"),
        Diagnostic(
            FILE,
            11,
            19,
            "error",
            "environments.production.services.web.replicas",
            "must be at least 1 (got 0)",
        ),
    ]


def test_an_unreadable_overlay_is_reported_once_and_the_next_one_still_read() -> None:
    result = load(
        BASE
        + "services:\n  web: {}\n"
        + "environments:\n  staging: 2024-13-45\n"
        + "  production:\n    services:\n      web:\n        port: 0\n"
    )
    assert [(d.line, d.col, d.path, d.summary) for d in result.diagnostics] == [
        (7, 12, "environments.staging", "unsupported YAML value: month must be in 1..12"),
        (
            11,
            15,
            "environments.production.services.web.port",
            "must be between 1 and 65535 (got 0)",
        ),
    ]
    assert result.diagnostics[1].detail == ""


def test_environments_that_is_not_a_mapping_is_reported() -> None:
    assert load(BASE + "services:\n  web: {}\nenvironments: staging\n").diagnostics == [
        Diagnostic(FILE, 6, 15, "error", "environments", "must be a mapping (got string 'staging')")
    ]


def test_an_unknown_key_in_an_overlay_says_what_an_overlay_may_set() -> None:
    result = load(
        BASE + "services:\n  web: {}\nenvironments:\n  staging:\n    servces: {}\n    region: x\n"
    )
    assert result.diagnostics == [
        Diagnostic(
            FILE,
            8,
            5,
            "error",
            "environments.staging.servces",
            "unknown key; did you mean 'services'?",
        ),
        Diagnostic(FILE, 9, 5, "error", "environments.staging.region", "unknown key"),
    ]
    assert {d.detail for d in result.diagnostics} == {
        "An overlay may set project, dependencies and services."
    }


def test_bytes_already_read_have_their_source_folders_checked_by_default(tmp_path: Path) -> None:
    text = BASE + "services:\n  web:\n    source: gone\n"
    [error] = load_manifest_bytes(text.encode(), FILE, tmp_path).errors
    assert (error.path, error.summary) == (
        "services.web.source",
        "folder 'gone' does not exist next to the manifest",
    )
