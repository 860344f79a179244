"""The final report's content (engine.report): when a run counts as successful, which headline
it gets, and the dashboard or binding link it carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.apply.executor import ApplyResult
from opendeploy_plan.apply.scheduler import RunReport, StepOutcome, StepResult
from opendeploy_plan.engine.desired import Resolution
from opendeploy_plan.engine.prepare import Prepared, load
from opendeploy_plan.engine.report import (
    DeployReport,
    ServiceOutcome,
    apply_headline,
    bare_report,
    failed_actions,
    https,
    operation_headline,
)
from opendeploy_plan.plan import DesiredService, DesiredSource, DesiredState
from opendeploy_plan.state.model import ObservedState

GATEWAY = "https://gw.example/api"


def _report(*services: ServiceOutcome, **fields: object) -> DeployReport:
    return DeployReport("shop", "p-1", "production", GATEWAY, list(services), **fields)  # type: ignore[arg-type]


def _result(*steps: tuple[str, StepOutcome], interrupted: bool = False) -> ApplyResult:
    report = RunReport([StepResult(n, o) for n, o in steps], interrupted=interrupted)
    return ApplyResult(report=report, project_id="p-1", deployments={})


OK = StepOutcome.SUCCEEDED
FAILED = StepOutcome.FAILED


def test_success_needs_services_all_succeeded_and_no_failed_action() -> None:
    assert not _report().succeeded  # nothing deployed is no success
    assert _report(ServiceOutcome("a", "success"), ServiceOutcome("b", "success")).succeeded
    assert not _report(ServiceOutcome("a", "success"), ServiceOutcome("b", "failed")).succeeded
    assert not _report(ServiceOutcome("a", "failed"), ServiceOutcome("b", "success")).succeeded
    assert not _report(ServiceOutcome("a", "success"), failed_actions=("x",)).succeeded


def test_an_explicit_ok_decides_but_a_failed_action_still_fails() -> None:
    assert _report(ok=True).succeeded
    assert not _report(ServiceOutcome("a", "success"), ok=False).succeeded
    assert not _report(ok=True, failed_actions=("rename",)).succeeded


def test_title_and_status() -> None:
    good = _report(ServiceOutcome("a", "success"))
    bad = _report(ServiceOutcome("a", "failed"))
    assert good.title == "Deployment successful"
    assert bad.title == "Deployment failed"
    assert _report(headline="Subdomain renamed").title == "Subdomain renamed"
    assert good.as_dict()["status"] == "success"
    assert bad.as_dict()["status"] == "failed"
    assert bad.as_dict()["headline"] == "Deployment failed"


def test_bound_report_links_the_dashboard_project() -> None:
    report = _report(ServiceOutcome("web", "success", "d-1", "https://web.example"))
    assert report.is_bound
    assert report.project_url == "https://gw.example/projects/p-1"
    doc = report.as_dict()
    assert doc["bound"] is True
    assert doc["bind_url"] is None
    assert doc["dashboard_url"] == "https://gw.example/projects/p-1"
    assert doc["project"] == {"name": "shop", "id": "p-1"}
    assert doc["environment"] == "production"
    assert doc["services"] == [
        {"name": "web", "status": "success", "deployment_id": "d-1", "url": "https://web.example"}
    ]
    noted = _report(local_note="(simulated)")
    assert noted.project_url == "https://gw.example/projects/p-1 (simulated)"


def test_unbound_report_links_the_binding_page_with_the_first_app() -> None:
    report = _report(
        ServiceOutcome("api", "success"),
        ServiceOutcome("web", "success", url="https://web.example/a b (note)"),
        ServiceOutcome("zz", "success", url="https://zz.example"),
        bind_url="https://gw.example/guest/g1?h=sig",
    )
    assert not report.is_bound
    expected = "https://gw.example/guest/g1?h=sig&url=https%3A%2F%2Fweb.example%2Fa"
    assert report.bind_url_with_app() == expected
    doc = report.as_dict()
    assert doc["bound"] is False
    assert doc["bind_url"] == expected
    assert doc["dashboard_url"] is None

    plain = _report(ServiceOutcome("web", "success", url="https://w"), bind_url="https://b/g")
    assert plain.bind_url_with_app() == "https://b/g?url=https%3A%2F%2Fw"
    noted = _report(
        ServiceOutcome("web", "success", url="https://w"), bind_url="https://b/g", local_note="(n)"
    )
    assert noted.bind_url_with_app() == "https://b/g?url=https%3A%2F%2Fw (n)"
    no_app = _report(ServiceOutcome("web", "success"), bind_url="https://b/g")
    assert no_app.bind_url_with_app() == "https://b/g"
    assert _report(ServiceOutcome("w", "success", url="https://w")).bind_url_with_app() == ""


def test_https_links_bare_domains_only() -> None:
    assert https("web.opendeploy.run") == "https://web.opendeploy.run"
    assert https("https://a.example") == "https://a.example"
    assert https("http://a.example") == "http://a.example"
    assert https("") == ""


def test_failed_actions_are_every_step_that_did_not_succeed() -> None:
    result = _result(
        ("a", OK), ("b", FAILED), ("c", StepOutcome.SKIPPED), ("d", StepOutcome.NOT_STARTED)
    )
    assert failed_actions(result) == ("b", "c", "d")
    assert failed_actions(None) == ()
    assert failed_actions(_result(("a", OK))) == ()


NO_CHANGES = "No changes: the live platform already matches the manifest"


@pytest.mark.parametrize(
    ("kinds", "steps", "interrupted", "headline"),
    [
        ({}, [], False, NO_CHANGES),
        ({"service.web": "deploy"}, [("service.web", OK)], True, "Apply interrupted"),
        ({"service.web": "deploy"}, [("service.web", FAILED)], False, "Deployment failed"),
        (
            {"service.web": "update", "service.web.wait": "wait"},
            [("service.web", OK), ("service.web.wait", FAILED)],
            False,
            "Deployment failed",
        ),
        (
            {"domain.web": "rename_domain", "service.api": "update"},
            [("domain.web", FAILED), ("service.api", OK)],
            False,
            "Subdomain rename failed",
        ),
        (
            {"domain.web": "rename_domain", "service.api": "update"},
            [("domain.web", FAILED), ("service.api", FAILED)],
            False,
            "Apply failed",
        ),
        (
            {"service.web": "deploy", "domain.web": "rename_domain"},
            [("service.web", OK), ("domain.web", OK)],
            False,
            "Deployment successful",
        ),
        ({"domain.web": "rename_domain"}, [("domain.web", OK)], False, "Subdomain renamed"),
        (
            {"domain.web": "rename_domain", "service.web": "update"},
            [("domain.web", OK), ("service.web", OK)],
            False,
            "Changes applied",
        ),
        (
            {"service.a": "delete", "service.b": "delete"},
            [("service.a", OK), ("service.b", OK)],
            False,
            "Deleted",
        ),
        ({"service.a": "update"}, [("service.a", OK)], False, "Changes applied"),
    ],
)
def test_apply_headline(
    kinds: dict[str, str],
    steps: list[tuple[str, StepOutcome]],
    interrupted: bool,
    headline: str,
) -> None:
    assert apply_headline(kinds, _result(*steps, interrupted=interrupted)) == headline


def test_apply_headline_without_a_run_is_no_changes() -> None:
    assert apply_headline({"service.web": "deploy"}, None) == NO_CHANGES


@pytest.mark.parametrize(
    ("verb", "status", "expected"),
    [
        ("cancel", "cancelled", ("Deployment cancelled", True)),
        ("cancel", "success", ("Cancel failed: the deployment ended success", False)),
        ("redeploy", "success", ("Deployment successful", True)),
        ("redeploy", "failed", ("Deployment failed", False)),
        ("rollback", "success", ("Rollback successful", True)),
        ("rollback", "cancelled", ("Rollback failed (ended cancelled)", False)),
        ("restart", "success", ("Restart successful", True)),
        ("restart", "failed", ("Restart failed", False)),
    ],
)
def test_operation_headline(verb: str, status: str, expected: tuple[str, bool]) -> None:
    assert operation_headline(verb, status) == expected


def test_bare_report_lists_every_service_as_unknown(tmp_path: Path) -> None:
    manifest = tmp_path / "opendeploy.yaml"
    manifest.write_text("version: 1\nproject:\n  name: shop\nservices:\n  web:\n    port: 80\n")
    prepared: Prepared = load(manifest, None, check_sources=False)
    desired = DesiredState(
        project="shop",
        environment="staging",
        source=DesiredSource(digest="d"),
        services={"web": DesiredService(port=80), "api": DesiredService(port=81)},
    )
    prepared.resolution = Resolution(desired)
    report = bare_report(prepared, _result(("service.web", FAILED)), GATEWAY, "/log")
    assert [(s.name, s.status) for s in report.services] == [("api", "unknown"), ("web", "unknown")]
    assert report.project_id == ""
    assert report.environment == "staging"
    assert report.project_name == "shop"
    assert report.log_file == "/log"
    assert report.failed_actions == ("service.web",)
    assert not report.succeeded
    prepared.observed = ObservedState.empty()
    assert bare_report(prepared, None, GATEWAY, "").project_id == ""
