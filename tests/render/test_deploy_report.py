"""The final deploy report follows the skill's canonical layout (deploy.md Step 9)."""

from __future__ import annotations

from opendeploy_plan.engine.report import DeployReport, ServiceOutcome, https
from opendeploy_plan.render.deploy_report import render_markdown

GATEWAY = "https://dashboard.dev.opendeploy.dev/api"


def one_service(bind_url: str = "") -> DeployReport:
    return DeployReport(
        project_name="shop",
        project_id="p-1",
        environment="production",
        gateway=GATEWAY,
        services=[ServiceOutcome("web", "success", "d-1", "https://shop.opendeploy.run")],
        bind_url=bind_url,
        log_file="/home/u/.opendeploy/logs/2026-11-29.log",
    )


def test_branch_a_unbound_guest_gets_bind_url_with_app_and_six_hour_notice() -> None:
    report = one_service(bind_url="https://dashboard.dev.opendeploy.dev/guest/g-1?h=abc")
    text = render_markdown(report)
    assert text.startswith(
        "## Deployment successful\n\n**Live URL:** https://shop.opendeploy.run\n"
    )
    assert "### Bind this deployment" in text
    assert "**6 hours**" in text
    assert (
        "**Bind URL:** https://dashboard.dev.opendeploy.dev/guest/g-1?h=abc"
        "&url=https%3A%2F%2Fshop.opendeploy.run" in text
    )
    assert "**Dashboard:**" not in text
    for line in (
        "- **Project:** `shop`",
        "- **Service:** `web`",
        "- **Environment:** `production`",
        "- **Status:** `success`",
        "- **Project ID:** `p-1`",
        "- **Deployment ID:** `d-1`",
        "- **Log file:** `/home/u/.opendeploy/logs/2026-11-29.log`",
    ):
        assert line in text


def test_a_bind_url_without_a_query_gets_the_app_as_its_first_parameter() -> None:
    report = one_service(bind_url="https://dashboard.dev.opendeploy.dev/guest/g-1")
    assert report.bind_url_with_app() == (
        "https://dashboard.dev.opendeploy.dev/guest/g-1?url=https%3A%2F%2Fshop.opendeploy.run"
    )
    assert one_service(bind_url="").bind_url_with_app() == ""


def test_branch_b_bound_account_gets_dashboard_url() -> None:
    text = render_markdown(one_service())
    assert "**Dashboard:** https://dashboard.dev.opendeploy.dev/projects/p-1" in text
    assert "Bind" not in text
    assert "**https://" not in text  # URLs are never bolded


def test_multi_service_lists_each_live_url() -> None:
    report = DeployReport(
        project_name="shop",
        project_id="p-1",
        environment="staging",
        gateway=GATEWAY,
        services=[
            ServiceOutcome("api", "success", "d-1", "https://api-shop.dev.opendeploy.run"),
            ServiceOutcome("worker", "success", "d-2"),
        ],
    )
    text = render_markdown(report)
    assert "**Live URLs:**\n- `api`: https://api-shop.dev.opendeploy.run" in text
    assert "- **Services:** `api`, `worker`" in text
    assert report.as_dict()["status"] == "success"
    assert report.as_dict()["dashboard_url"] == "https://dashboard.dev.opendeploy.dev/projects/p-1"


def test_failed_service_makes_a_failed_report() -> None:
    report = DeployReport("shop", "p-1", "production", GATEWAY, [ServiceOutcome("web", "failed")])
    assert render_markdown(report).startswith("## Deployment failed")
    assert report.as_dict()["status"] == "failed"


def test_one_failed_service_of_several_fails_the_report() -> None:
    report = DeployReport(
        "shop",
        "p-1",
        "production",
        GATEWAY,
        [
            ServiceOutcome("api", "success", "d-1", "https://api.opendeploy.run"),
            ServiceOutcome("worker", "failed", "d-2"),
        ],
    )
    assert render_markdown(report).startswith("## Deployment failed")
    assert report.as_dict()["status"] == "failed"
    assert not DeployReport("shop", "p-1", "production", GATEWAY, []).ok


def test_bare_domains_get_https() -> None:
    assert https("web.opendeploy.run") == "https://web.opendeploy.run"
    assert https("https://x.run") == "https://x.run"
    # A local or plain-HTTP URL keeps its scheme: no https:// in front of an http:// one.
    assert https("http://127.0.0.1:8788/") == "http://127.0.0.1:8788/"
    assert https("") == ""


def test_a_failed_action_fails_the_report_even_when_every_deployment_succeeded() -> None:
    report = DeployReport(
        "shop",
        "p-1",
        "production",
        GATEWAY,
        [ServiceOutcome("web", "success", "d-1", "https://web-x.opendeploy.run")],
        failed_actions=("service.web.domain",),
    )
    assert render_markdown(report).startswith("## Deployment failed")
    assert report.as_dict()["status"] == "failed"
