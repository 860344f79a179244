"""`odplan plan` for a project that does not exist yet on a real local gateway: everything is
created, `--detailed-exitcode` says "changes", and each view (human, JSON, Markdown) is complete."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]

from tests.e2e.conftest import REPO_ROOT, Odplan, addresses, assert_no_canary

PLAN_SCHEMA = REPO_ROOT / "schemas" / "plan.schema.json"

EVERYTHING = {
    "project": "create",
    "dependency.db": "create",
    "service.api": "create",
    "service.worker": "create",
    "project.source": "bind_source",
    "service.api.deployment": "deploy",
    "service.worker.deployment": "deploy",
    "service.api.domain": "rename_domain",
}


def test_a_fresh_project_plans_everything_and_exits_2_as_a_real_process(odplan: Odplan) -> None:
    result = odplan.subprocess(
        "plan", "-f", str(odplan.manifest), "--gateway", odplan.gateway.base_url,
        "--detailed-exitcode",
    )  # fmt: skip

    assert result.returncode == 2, result.stderr
    assert "odplan plan for project 'shop' (production)" in result.stdout
    for address in EVERYTHING:
        assert address in result.stdout
    assert "Plan: 4 to create, 1 to update, 0 to destroy, 2 to deploy." in result.stdout
    assert "env.API_TOKEN" in result.stdout and "(sensitive value)" in result.stdout
    assert "Traceback" not in result.stderr
    assert_no_canary(result.stdout, result.stderr, home=odplan.home)


def test_without_detailed_exitcode_changes_exit_0(odplan: Odplan) -> None:
    result = odplan.plan()

    assert result.exit_code == 0, result.stderr
    assert "Plan: 4 to create" in result.stdout


def test_json_output_validates_against_the_published_schema(odplan: Odplan) -> None:
    result = odplan.plan("--json", "--detailed-exitcode")

    assert result.exit_code == 2, result.stderr
    document = json.loads(result.stdout)
    schema = json.loads(PLAN_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(document)
    assert document["project"] == "shop"
    assert document["has_changes"] is True
    assert addresses(document) == EVERYTHING
    assert document["summary"]["create"] == 4
    assert document["summary"]["deploy"] == 2
    secret = next(
        change
        for action in document["actions"]
        for change in action["changes"]
        if change["path"] == "env.API_TOKEN"
    )
    assert secret["after"] == {"sensitive": True}
    assert_no_canary(result.stdout, result.stderr, home=odplan.home)


def test_format_json_is_the_same_as_the_json_flag(odplan: Odplan) -> None:
    by_flag = json.loads(odplan.plan("--json").stdout)
    by_format = json.loads(odplan.plan("--format", "json").stdout)

    assert addresses(by_flag) == addresses(by_format) == EVERYTHING


def test_markdown_has_the_summary_and_collapsible_details(odplan: Odplan) -> None:
    result = odplan.plan("--format", "markdown")

    assert result.exit_code == 0, result.stderr
    assert "4 to create" in result.stdout
    assert "<details>" in result.stdout and "</details>" in result.stdout
    assert "service.api.deployment" in result.stdout
    assert_no_canary(result.stdout, result.stderr)


def test_the_audit_log_records_the_plan_without_secrets(odplan: Odplan) -> None:
    result = odplan.plan()

    assert result.exit_code == 0, result.stderr
    logs = [p for p in (odplan.home / "logs").rglob("*") if p.is_file()]
    assert logs, "the audit log was not written to OPDEPLOY_LOG_DIR"
    assert any("plan.done" in p.read_text() for p in logs)
    assert_no_canary(home=odplan.home)


def test_a_missing_manifest_is_a_clear_error(odplan: Odplan, tmp_path: Path) -> None:
    result = odplan.invoke(
        "plan", "-f", str(tmp_path / "nope.yaml"), "--gateway", odplan.gateway.base_url
    )

    assert result.exit_code == 1
    assert "nope.yaml" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
