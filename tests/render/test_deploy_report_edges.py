"""The final deploy report with several services, some without a URL, and without a log file:
only live services are listed under Live URLs, each status and deployment id is named by its
service, and no empty Log file line appears."""

from __future__ import annotations

from opendeploy_plan.engine.report import DeployReport, ServiceOutcome
from opendeploy_plan.render.deploy_report import render_markdown


def _report(*services: ServiceOutcome, log_file: str = "") -> DeployReport:
    return DeployReport(
        project_name="shop",
        project_id="p-1",
        environment="production",
        gateway="https://dashboard.dev.opendeploy.dev/api",
        services=list(services),
        log_file=log_file,
    )


def test_only_services_with_a_url_are_listed_and_each_status_names_its_service() -> None:
    text = render_markdown(
        _report(
            ServiceOutcome("web", "success", "d-1", "https://shop.opendeploy.run"),
            ServiceOutcome("worker", "failed", "d-2"),
        )
    )
    assert "**Live URLs:**\n- `web`: https://shop.opendeploy.run\n" in text
    assert "- `worker`" not in text
    assert "- **Services:** `web`, `worker`" in text
    assert "- **Status:** `web` `success`, `worker` `failed`" in text
    assert "- **Deployment IDs:** `web` `d-1`, `worker` `d-2`" in text
    assert "Log file" not in text


def test_a_service_without_url_shows_no_live_url_line() -> None:
    text = render_markdown(_report(ServiceOutcome("web", "failed", "d-1")))
    assert "Live URL" not in text
    assert "- **Service:** `web`" in text and "- **Status:** `failed`" in text


def test_a_report_without_services_still_renders_the_project_lines() -> None:
    text = render_markdown(_report())
    assert "- **Project:** `shop`" in text
    assert "- **Project ID:** `p-1`" in text
    assert "Live URL" not in text
