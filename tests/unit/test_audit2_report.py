"""The final report's verdict (independent mutation audit, issue 19): every action of the run
that did not succeed (failed, skipped or never started) is a "not done" action, and a report
with any of them is not a success, whatever else says "ok"."""

from __future__ import annotations

from opendeploy_plan.apply import ApplyResult, RunReport, StepOutcome, StepResult
from opendeploy_plan.engine.report import DeployReport, ServiceOutcome, failed_actions

GATEWAY = "https://dashboard.dev.opendeploy.dev/api"


def test_skipped_and_not_started_actions_are_not_done() -> None:
    report = RunReport(
        results=[
            StepResult("project", StepOutcome.SUCCEEDED),
            StepResult("service.api", StepOutcome.FAILED, RuntimeError("boom")),
            StepResult("service.api.deployment", StepOutcome.SKIPPED, reason="upstream x"),
            StepResult("service.web", StepOutcome.NOT_STARTED, reason="interrupted"),
        ]
    )
    result = ApplyResult(report, "p-1", {})
    assert failed_actions(result) == (
        "service.api",
        "service.api.deployment",
        "service.web",
    )
    assert failed_actions(None) == ()


def test_a_report_with_not_done_actions_is_failed_even_when_marked_ok() -> None:
    report = DeployReport(
        "shop",
        "p-1",
        "production",
        GATEWAY,
        [ServiceOutcome("web", "success", "d-1", "https://web.opendeploy.run")],
        failed_actions=("service.web.domain",),
        ok=True,
    )
    assert not report.succeeded
    assert report.as_dict()["status"] == "failed"


def test_a_failed_rename_fails_the_report_though_every_deployment_succeeded() -> None:
    def report(failed: tuple[str, ...]) -> DeployReport:
        return DeployReport(
            "shop",
            "p-1",
            "production",
            GATEWAY,
            [ServiceOutcome("web", "success", "d-1", "https://web.opendeploy.run")],
            failed_actions=failed,
        )

    assert report(()).succeeded and report(()).title == "Deployment successful"
    renamed_not = report(("service.web.domain",))
    assert not renamed_not.succeeded
    assert renamed_not.title == "Deployment failed"
    assert renamed_not.as_dict()["status"] == "failed"
