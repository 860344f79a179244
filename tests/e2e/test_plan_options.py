"""`odplan plan` options over real HTTP: `--out` saved plans (owner-only, no secret values) and
`--target` / `--exclude` / `--redeploy` shaping the plan as docs/plan.md describes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from opendeploy_plan.plan import load_plan
from tests.e2e.conftest import CANARY, Odplan, addresses, assert_no_canary


def test_out_writes_an_owner_only_plan_file_without_secret_values(
    odplan: Odplan, tmp_path: Path
) -> None:
    out = tmp_path / "plans" / "shop.plan"
    out.parent.mkdir()

    result = odplan.plan("--out", str(out), "--detailed-exitcode")

    assert result.exit_code == 2, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = out.read_bytes()
    assert CANARY.encode() not in data
    saved = load_plan(data)
    assert saved.project == "shop"
    assert saved.gateway == odplan.gateway.base_url
    assert "service.api.env.API_TOKEN" in saved.secret_hashes
    assert {a.address for a in saved.actions} >= {"project", "service.api", "service.worker"}
    assert f"odplan apply {out}" in result.stderr
    assert [p.name for p in out.parent.iterdir()] == ["shop.plan"], "no temp file left behind"
    assert_no_canary(result.stdout, result.stderr, home=odplan.home)


def test_out_saves_the_same_actions_that_json_prints(odplan: Odplan, tmp_path: Path) -> None:
    out = tmp_path / "shop.plan"

    result = odplan.plan("--out", str(out), "--json")

    printed = json.loads(result.stdout)
    saved = json.loads(out.read_text())
    assert saved["kind"] == "odplan-saved-plan"
    assert saved["actions"] == printed["actions"]


def test_target_keeps_the_service_and_what_it_needs(odplan: Odplan) -> None:
    result = odplan.plan("--target", "service.api", "--json")

    assert result.exit_code == 0, result.stderr
    planned = addresses(json.loads(result.stdout))
    assert {"project", "dependency.db", "service.api", "service.api.deployment"} <= set(planned)
    assert "service.api.domain" in planned  # below service.api: matched by the pattern
    assert not any(a.startswith("service.worker") for a in planned)
    assert "target" in result.stderr.lower()


def test_exclude_drops_the_service_and_leaves_the_rest(odplan: Odplan) -> None:
    result = odplan.plan("--exclude", "service.worker", "--json")

    assert result.exit_code == 0, result.stderr
    planned = addresses(json.loads(result.stdout))
    assert not any(a.startswith("service.worker") for a in planned)
    assert {
        "project",
        "dependency.db",
        "service.api",
        "project.source",
        "service.api.deployment",
        "service.api.domain",
    } <= set(planned)


def test_exclude_also_drops_what_needs_the_excluded_address(odplan: Odplan) -> None:
    result = odplan.plan("--exclude", "service.api", "--json")

    assert result.exit_code == 0, result.stderr
    planned = addresses(json.loads(result.stdout))
    # The worker declares `after: [api]` (the API's sibling `dependencies`): it needs the api.
    assert not any(a.startswith(("service.api", "service.worker")) for a in planned)
    assert set(planned) == {"project", "dependency.db"}


def test_redeploy_deploys_an_unchanged_service(applied: Odplan) -> None:
    result = applied.plan("--redeploy", "service.worker", "--detailed-exitcode", "--json")

    assert result.exit_code == 2, result.stderr
    assert addresses(json.loads(result.stdout)) == {"service.worker.deployment": "deploy"}


def test_redeploy_is_not_drift(applied: Odplan) -> None:
    result = applied.plan("--redeploy", "service.worker", "--refresh-only", "--detailed-exitcode")

    assert result.exit_code == 0, result.stdout + result.stderr


def test_target_with_no_changes_under_it_plans_nothing(applied: Odplan) -> None:
    result = applied.plan("--target", "service.worker", "--detailed-exitcode")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "No changes." in result.stdout


def test_out_into_a_missing_folder_fails_before_any_request(odplan: Odplan, tmp_path: Path) -> None:
    odplan.admin("DELETE", "/requests")

    result = odplan.plan("--out", str(tmp_path / "missing" / "shop.plan"))

    assert result.exit_code == 1
    assert "cannot save the plan" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert odplan.admin("GET", "/requests")["total"] == 0


def test_a_plan_with_errors_is_not_saved(applied: Odplan, tmp_path: Path) -> None:
    out = tmp_path / "shop.plan"

    # Replacing a database loses its data: an error plan unless --allow-data-loss.
    result = applied.plan("--replace", "dependency.db", "--out", str(out), "--detailed-exitcode")

    assert result.exit_code == 1
    assert "not saved" in result.stderr
    assert not out.exists()


def test_a_planner_warning_is_shown_once(odplan: Odplan) -> None:
    """The human plan carries the planner's warnings; stderr does not repeat them."""
    result = odplan.plan("--target", "service.nope")

    shown = result.stdout + result.stderr
    assert shown.count("'service.nope' matches nothing") == 1, shown


@pytest.mark.parametrize("view", [("plan", "--json"), ("plan", "--format", "markdown"), ("graph",)])
def test_a_planner_warning_reaches_stderr_when_no_human_plan_is_shown(
    odplan: Odplan, view: tuple[str, ...]
) -> None:
    command, *options = view
    result = odplan.invoke(
        command, "-f", str(odplan.manifest), "--gateway", odplan.gateway.base_url,
        "--target", "service.nope", *options,
    )  # fmt: skip

    assert result.stderr.count("'service.nope' matches nothing") == 1, result.stderr
