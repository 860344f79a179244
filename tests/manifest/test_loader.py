"""Loading manifests: positions, overlays, textual values, YAML safety, and the result shape."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from opendeploy_plan.diagnostics import Diagnostic
from opendeploy_plan.manifest import GitSource, load_manifest, load_manifest_bytes

Write = Callable[..., Path]

BASE = "version: 1\nproject:\n  name: shop\n"


def messages(path: Path, environment: str | None = None) -> list[str]:
    return [d.format().split(": ", 1)[1] for d in load_manifest(path, environment).diagnostics]


def test_a_minimal_manifest_loads_with_defaults(write_manifest: Write) -> None:
    result = load_manifest(write_manifest(BASE + "services:\n  web: {}\n"))
    assert result.diagnostics == []
    manifest = result.manifest
    assert manifest is not None
    assert manifest.project.region == "auto"
    assert manifest.environment == "production"
    web = manifest.services["web"]
    assert (web.type, web.source, web.replicas, web.env_policy) == ("web", ".", 1, "replace")
    assert web.env_files is None


def test_every_diagnostic_carries_line_col_and_path(write_manifest: Write) -> None:
    path = write_manifest(BASE + "services:\n  web:\n    port: 70000\n")
    [diagnostic] = load_manifest(path).diagnostics
    assert diagnostic == Diagnostic(
        str(path), 6, 11, "error", "services.web.port", "must be between 1 and 65535 (got 70000)"
    )
    assert diagnostic.format() == (
        f"{path}:6:11: error: services.web.port: must be between 1 and 65535 (got 70000)"
    )


def test_all_problems_are_reported_at_once_sorted_by_position(write_manifest: Write) -> None:
    path = write_manifest(
        BASE
        + "services:\n  web:\n    replicas: 0\n    port: 0\n    uses: [nope]\n"
        + "  worker:\n    type: wroker\n    env:\n      API_KEY: literal\n"
    )
    result = load_manifest(path)
    assert result.manifest is None
    positions = [(d.line, d.col) for d in result.diagnostics]
    assert positions == sorted(positions)
    assert [d.path for d in result.diagnostics] == [
        "services.web.replicas",
        "services.web.port",
        "services.web.uses[0]",
        "services.worker.type",
        "services.worker.env.API_KEY",
    ]
    assert result.diagnostics[-1].severity == "warning"


def test_warnings_do_not_block_the_manifest(write_manifest: Write) -> None:
    result = load_manifest(
        write_manifest(BASE + "services:\n  web:\n    env:\n      DB_PASSWORD: x\n")
    )
    assert result.manifest is not None
    assert [d.severity for d in result.diagnostics] == ["warning"]
    assert "use ${{ secrets.DB_PASSWORD }}" in result.diagnostics[0].summary


def test_secret_references_and_dependency_references_are_not_warned(write_manifest: Write) -> None:
    path = write_manifest(
        BASE
        + "dependencies:\n  db: {type: postgres}\n"
        + "services:\n  web:\n    env:\n"
        + "      API_KEY: ${{ secrets.API_KEY }}\n"
        + "      DB_PASSWORD: ${{ dependencies.db.POSTGRES_PASSWORD }}\n"
    )
    assert load_manifest(path).diagnostics == []


def test_unquoted_numbers_and_booleans_in_env_keep_their_written_text(
    write_manifest: Write,
) -> None:
    path = write_manifest(
        BASE
        + "services:\n  web:\n    env:\n      PORT: 8080\n      DEBUG: true\n"
        + "      RATIO: 1.50\n      OCTAL: 0o17\n      DAY: 2024-01-01\n"
        + "    resources:\n      cpu: {request: 0.5, limit: 1}\n"
    )
    manifest = load_manifest(path).manifest
    assert manifest is not None
    web = manifest.services["web"]
    assert web.env == {
        "PORT": "8080",
        "DEBUG": "true",
        "RATIO": "1.50",
        "OCTAL": "0o17",
        "DAY": "2024-01-01",
    }
    assert web.resources is not None and web.resources.cpu is not None
    assert (web.resources.cpu.request, web.resources.cpu.limit) == ("0.5", "1")


def test_keys_are_read_as_written_never_as_booleans(write_manifest: Write) -> None:
    manifest = load_manifest(
        write_manifest(BASE + "services:\n  web:\n    env:\n      on: x\n      'NO': y\n")
    ).manifest
    assert manifest is not None
    assert manifest.services["web"].env == {"on": "x", "NO": "y"}


def test_anchors_aliases_and_merge_keys_work(write_manifest: Write) -> None:
    path = write_manifest(
        BASE
        + "services:\n"
        + "  web:\n    env: &common\n      LOG_LEVEL: info\n      REGION: eu\n"
        + "  worker:\n    type: worker\n    env:\n      <<: *common\n      LOG_LEVEL: debug\n"
    )
    manifest = load_manifest(path).manifest
    assert manifest is not None
    assert manifest.services["worker"].env == {"LOG_LEVEL": "debug", "REGION": "eu"}


def test_a_git_source_is_a_model(write_manifest: Write) -> None:
    path = write_manifest(
        BASE + "services:\n  web:\n    source: {git: 'git@github.com:a/b.git', token_env: GH}\n"
    )
    manifest = load_manifest(path).manifest
    assert manifest is not None
    assert manifest.services["web"].source == GitSource(
        git="git@github.com:a/b.git", token_env="GH"
    )


OVERLAID = (
    BASE
    + "dependencies:\n  db: {type: postgres}\n"
    + "services:\n"
    + "  web:\n    port: 8080\n    uses: [db]\n    after: [api]\n"
    + "    env: {A: base, B: base}\n"
    + "  api:\n    port: 9000\n    uses: [db]\n"
    + "environments:\n"
    + "  staging:\n"
    + "    project: {description: staging copy}\n"
    + "    services:\n"
    + "      web:\n        env: {B: staging, C: staging}\n        after: []\n"
    + "      api: null\n"
)


def test_production_ignores_the_staging_overlay(write_manifest: Write) -> None:
    manifest = load_manifest(write_manifest(OVERLAID)).manifest
    assert manifest is not None
    assert manifest.environment == "production"
    assert sorted(manifest.services) == ["api", "web"]
    assert manifest.services["web"].env == {"A": "base", "B": "base"}


def test_overlays_merge_mappings_replace_lists_and_null_removes(write_manifest: Write) -> None:
    result = load_manifest(write_manifest(OVERLAID), "staging")
    manifest = result.manifest
    assert manifest is not None, [d.format() for d in result.diagnostics]
    assert manifest.environment == "staging"
    assert manifest.project.description == "staging copy"
    assert list(manifest.services) == ["web"]
    web = manifest.services["web"]
    assert web.env == {"A": "base", "B": "staging", "C": "staging"}
    assert web.after == []
    assert web.port == 8080


def test_the_manifest_environment_selects_the_overlay(write_manifest: Write) -> None:
    path = write_manifest(OVERLAID.replace("environments:", "environment: staging\nenvironments:"))
    result = load_manifest(path)
    assert result.environment == "staging"
    assert result.manifest is not None and list(result.manifest.services) == ["web"]
    assert load_manifest(path, "production").environment == "production"


def test_a_broken_overlay_fails_even_when_another_environment_is_selected(
    write_manifest: Write,
) -> None:
    path = write_manifest(
        BASE + "services:\n  web: {}\nenvironments:\n  staging:\n    services:\n"
        "      web:\n        port: 0\n"
    )
    for environment in ("production", "staging"):
        [diagnostic] = load_manifest(path, environment).diagnostics
        assert (diagnostic.line, diagnostic.col) == (10, 15)
        assert diagnostic.path == "environments.staging.services.web.port"


def test_an_unknown_requested_environment_is_an_error(write_manifest: Write) -> None:
    result = load_manifest(write_manifest(BASE + "services:\n  web: {}\n"), "qa")
    assert result.manifest is None
    assert "unknown environment 'qa'" in result.errors[0].summary


def test_a_missing_file_is_a_diagnostic_not_an_exception(tmp_path: Path) -> None:
    result = load_manifest(tmp_path / "opendeploy.yaml")
    assert result.manifest is None
    assert result.errors[0].summary.startswith("no such file")
    assert load_manifest(tmp_path).errors[0].summary.startswith("is a directory")


def test_files_over_one_mebibyte_are_refused_before_parsing(tmp_path: Path) -> None:
    raw = (BASE + "# " + "x" * (1024 * 1024) + "\n").encode()
    [diagnostic] = load_manifest_bytes(raw, "big.yaml", tmp_path).diagnostics
    assert "may be at most 1 MiB" in diagnostic.summary


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbf" + (BASE + "services:\n  web: {}\n").encode()
    assert load_manifest_bytes(raw, "bom.yaml", tmp_path).diagnostics == []


def test_deep_nesting_is_refused_without_a_traceback(tmp_path: Path) -> None:
    raw = (BASE + "description: " + "[" * 5000 + "]" * 5000 + "\n").encode()
    result = load_manifest_bytes(raw, "deep.yaml", tmp_path)
    assert result.manifest is None
    assert result.errors


def test_a_source_symlinked_outside_the_folder_is_refused(
    tmp_path: Path, write_manifest: Write
) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    os.symlink(outside, tmp_path / "app")
    path = write_manifest(BASE + "services:\n  web:\n    source: app\n")
    [diagnostic] = load_manifest(path).diagnostics
    assert "leads outside the manifest's folder" in diagnostic.summary


def test_a_source_folder_that_exists_is_accepted(tmp_path: Path, write_manifest: Write) -> None:
    (tmp_path / "api").mkdir()
    path = write_manifest(BASE + "services:\n  api:\n    source: ./api\n")
    assert load_manifest(path).diagnostics == []


def test_unused_dependencies_and_ignored_subdomains_are_warnings(write_manifest: Write) -> None:
    path = write_manifest(
        BASE
        + "dependencies:\n  db: {type: postgres}\n"
        + "services:\n  jobs:\n    type: worker\n    subdomain: my-jobs\n"
        + "  web:\n    internal_only: true\n    subdomain: my-web\n"
    )
    result = load_manifest(path)
    assert result.manifest is not None
    assert [d.summary for d in result.warnings] == [
        "dependency 'db' is not used by any service",
        "a worker service gets no domain; the subdomain is ignored",
        "internal_only blocks external traffic; the subdomain would not be reachable",
    ]


def test_duplicate_keys_do_not_hide_other_errors(write_manifest: Write) -> None:
    path = write_manifest(BASE + "services:\n  web:\n    port: 1\n    port: 2\n    replicas: 0\n")
    assert [d.path for d in load_manifest(path).errors] == [
        "services.web.port",
        "services.web.replicas",
    ]


def test_the_result_reports_errors_and_warnings_separately(write_manifest: Write) -> None:
    path = write_manifest(
        BASE + "dependencies:\n  db: {type: postgres}\nservices:\n  web:\n    port: 0\n"
    )
    result = load_manifest(path)
    assert not result.ok
    assert len(result.errors) == 1 and len(result.warnings) == 1


def test_the_digest_is_the_sha256_of_the_file_bytes(write_manifest: Write) -> None:
    import hashlib

    from opendeploy_plan.manifest import manifest_digest

    path = write_manifest(BASE)
    assert manifest_digest(path) == hashlib.sha256(BASE.encode()).hexdigest()
    assert len(manifest_digest(path)) == 64


def test_the_result_knows_its_folder(write_manifest: Write) -> None:
    path = write_manifest(BASE + "services:\n  web: {}\n")
    assert load_manifest(path).manifest_dir == path.parent


def test_problems_only_another_environment_has_say_which_one(write_manifest: Write) -> None:
    path = write_manifest(
        BASE
        + "dependencies:\n  cache: {type: redis}\n"
        + "services:\n  web: {}\n  worker:\n    type: worker\n    uses: [cache]\n"
        + "environments:\n  staging:\n    services:\n      worker: null\n"
    )
    [in_production] = load_manifest(path, "production").diagnostics
    assert in_production.summary == "dependency 'cache' is not used by any service (in staging)"
    [in_staging] = load_manifest(path, "staging").diagnostics
    assert in_staging.summary == "dependency 'cache' is not used by any service"
