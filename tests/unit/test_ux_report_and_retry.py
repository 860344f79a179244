"""Issue 16 items 2 and 3, the pure parts: a refused connection is not retried; the report's
headline says what happened; the terminal summary is aligned and has no Markdown; the folder
link holds a gateway and nothing else."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import httpx

from opendeploy_plan.apply.executor import ApplyResult
from opendeploy_plan.apply.scheduler import RunReport, StepOutcome, StepResult
from opendeploy_plan.cli.views.report import choose_format, report_text
from opendeploy_plan.engine.link import LINK_FILE, read_link, write_link
from opendeploy_plan.engine.report import (
    DeployReport,
    ServiceOutcome,
    apply_headline,
    operation_headline,
)
from opendeploy_plan.gateway._retry import Failure, RetryPolicy, connection_refused, decide_retry
from opendeploy_plan.render.deploy_report import render_markdown


def test_a_refused_connection_is_raised_at_once_other_transport_errors_retry() -> None:
    policy = RetryPolicy()
    refused = decide_retry(
        policy, Failure(None, request_sent=False, refused=True), idempotent=True, retry_number=0
    )
    timeout = decide_retry(
        policy, Failure(None, request_sent=False), idempotent=True, retry_number=0
    )

    assert refused.action == "raise"
    assert timeout.action == "retry"


def test_connection_refused_is_found_anywhere_in_the_chain_of_causes() -> None:
    inner = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    wrapped = httpx.ConnectError("All connection attempts failed")
    wrapped.__cause__ = OSError("All connection attempts failed")
    wrapped.__cause__.__context__ = inner

    assert connection_refused(wrapped)
    assert not connection_refused(httpx.ConnectError("Name or service not known"))


def _result(*steps: tuple[str, StepOutcome]) -> ApplyResult:
    report = RunReport([StepResult(name, outcome) for name, outcome in steps])
    return ApplyResult(report, "p1", {})


def test_apply_headlines_name_what_happened() -> None:
    rename = {"service.web.domain": "rename_domain"}
    deploy = {"service.web.deployment": "deploy", "service.web.domain": "rename_domain"}

    assert apply_headline({}, None).startswith("No changes")
    assert apply_headline(rename, _result(("service.web.domain", StepOutcome.SUCCEEDED))) == (
        "Subdomain renamed"
    )
    assert apply_headline(rename, _result(("service.web.domain", StepOutcome.FAILED))) == (
        "Subdomain rename failed"
    )
    assert (
        apply_headline(
            deploy,
            _result(
                ("service.web.deployment", StepOutcome.SUCCEEDED),
                ("service.web.domain", StepOutcome.SUCCEEDED),
            ),
        )
        == "Deployment successful"
    )
    assert (
        apply_headline(
            deploy,
            _result(
                ("service.web.deployment", StepOutcome.FAILED),
                ("service.web.domain", StepOutcome.SKIPPED),
            ),
        )
        == "Deployment failed"
    )


def test_apply_headlines_for_every_other_outcome() -> None:
    deploy = {"service.web.deployment": "deploy", "service.web": "create"}
    failed_create = _result(
        ("service.web", StepOutcome.FAILED), ("service.web.deployment", StepOutcome.SKIPPED)
    )
    assert apply_headline(deploy, failed_create) == "Apply failed"
    waited = {"service.web.deployment": "wait"}
    assert apply_headline(waited, _result(("service.web.deployment", StepOutcome.FAILED))) == (
        "Deployment failed"
    )
    interrupted = _result(("service.web", StepOutcome.SUCCEEDED))
    interrupted.report.interrupted = True
    assert apply_headline(deploy, interrupted) == "Apply interrupted"
    deleted = {"service.old": "delete", "dependency.db": "delete"}
    assert apply_headline(
        deleted,
        _result(("service.old", StepOutcome.SUCCEEDED), ("dependency.db", StepOutcome.SUCCEEDED)),
    ) == ("Deleted")
    updated = {"service.web": "update", "service.old": "delete"}
    assert apply_headline(
        updated,
        _result(("service.web", StepOutcome.SUCCEEDED), ("service.old", StepOutcome.SUCCEEDED)),
    ) == ("Changes applied")


def test_operation_headlines_name_how_a_deployment_ended() -> None:
    assert operation_headline("cancel", "success") == (
        "Cancel failed: the deployment ended success",
        False,
    )
    assert operation_headline("redeploy", "failed") == ("Deployment failed", False)
    assert operation_headline("redeploy", "cancelled") == (
        "Deployment failed (ended cancelled)",
        False,
    )
    assert operation_headline("rollback", "success") == ("Rollback successful", True)


def test_operation_headlines_a_successful_cancel_is_a_success() -> None:
    assert operation_headline("cancel", "cancelled") == ("Deployment cancelled", True)
    assert operation_headline("cancel", "success")[1] is False
    assert operation_headline("redeploy", "success") == ("Deployment successful", True)
    assert operation_headline("rollback", "failed") == ("Rollback failed", False)


def _report(**kwargs: object) -> DeployReport:
    base: dict[str, object] = {
        "project_name": "shop",
        "project_id": "p-1",
        "environment": "production",
        "gateway": "http://127.0.0.1:1/api",
        "services": [
            ServiceOutcome("web", "success", "d-1", "https://shop.opendeploy.run"),
            ServiceOutcome("api-long-name", "failed", "d-2", ""),
        ],
        "log_file": "/tmp/log",
    }
    base.update(kwargs)
    return DeployReport(**base)  # type: ignore[arg-type]


def test_a_failed_rename_beside_successful_deployments_is_not_a_failed_deployment() -> None:
    report = _report(
        services=[ServiceOutcome("web", "success", "d-1", "https://shop.opendeploy.run")],
        failed_actions=("service.web.domain",),
        headline="Subdomain rename failed",
        ok=False,
    )

    markdown = render_markdown(report)
    assert markdown.startswith("## Subdomain rename failed\n")
    assert "Deployment failed" not in markdown
    assert report.as_dict()["headline"] == "Subdomain rename failed"
    assert report.as_dict()["status"] == "failed"


def test_the_terminal_summary_is_aligned_plain_text() -> None:
    text = report_text(_report(headline="Deployment failed", ok=False), color=False)

    assert text.splitlines()[0] == "✗ Deployment failed"
    assert "**" not in text and "##" not in text and "`" not in text
    rows = [line for line in text.splitlines()[1:] if line.strip()]
    assert all(line.startswith("  ") for line in rows)
    values = {line[15:16] != " " for line in rows if line[2:15].strip() and line[15:].strip()}
    assert values == {True}
    services = [line for line in rows if "web " in line or "api-long-name" in line]
    assert len({line.index("success" if "success" in line else "failed") for line in services}) == 1


def test_the_terminal_summary_colours_only_when_asked() -> None:
    assert "\x1b[" not in report_text(_report(), color=False)
    assert "\x1b[" in report_text(_report(), color=True)


def test_choose_format_markdown_when_not_a_terminal(tmp_path: Path) -> None:
    with (tmp_path / "out").open("w") as stream:
        assert choose_format(None, stream) == "markdown"
        assert choose_format("human", stream) == "human"


def test_the_folder_link_holds_the_gateway_only(tmp_path: Path) -> None:
    assert read_link(tmp_path) is None
    write_link(tmp_path, "http://127.0.0.1:8080/api")

    assert read_link(tmp_path) == "http://127.0.0.1:8080/api"
    assert set(json.loads((tmp_path / LINK_FILE).read_text())) == {"format", "gateway"}
    assert (tmp_path / ".opendeploy" / ".gitignore").read_text() == "*\n"
    (tmp_path / LINK_FILE).write_text("{not json")
    assert read_link(tmp_path) is None
