"""The plan views: human (symbols, summary, colour rules), Markdown, dot and mermaid."""

from __future__ import annotations

import io
import re

from opendeploy_plan.plan import DesiredValue, Plan, PlanOptions, make_plan, plan_json
from opendeploy_plan.render import (
    render_dot,
    render_human,
    render_markdown,
    render_mermaid,
    use_color,
)
from tests.plan.golden import CASES_DIR, GoldenCase, load_case

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CANARY = "canary-4b1d-secret"


def _case(name: str) -> GoldenCase:
    return load_case(next(CASES_DIR.glob(f"*{name}.json")))


def _plan(name: str, **options: object) -> Plan:
    case = _case(name)
    opts = case.options if not options else PlanOptions(**options)  # type: ignore[arg-type]
    return make_plan(case.desired, case.observed, opts)


def _lines_starting(text: str, prefix: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith(prefix)]


def test_human_view_of_a_fresh_project() -> None:
    text = render_human(_plan("empty_project_creates_everything"))
    heads = [
        line.strip()
        for line in text.splitlines()
        if line.startswith("  ") and not line.startswith("   ") and not line.strip().startswith("#")
    ]
    assert heads == [
        "+ project",
        "+ dependency.db",
        "+ service.web",
        "^ project.source",
        "> service.web.deployment",
        "~ service.web.domain",
    ]
    assert "+ env.API_KEY" in text and "(sensitive value)" in text
    assert "(known after apply)" in text
    assert '~ domain = (known after apply) -> "shop-web.opendeploy.run"' in text
    assert text.rstrip().endswith("Plan: 3 to create, 1 to update, 0 to destroy, 1 to deploy.")
    assert not ANSI.search(text)


def test_human_view_shows_removals_replacements_and_errors() -> None:
    text = render_human(_plan("dependency_type_change_needs_allow_data_loss"))
    assert "-/+ dependency.db" in text
    assert '~ type = "postgres" -> "mysql"  # forces replacement' in text
    assert "Error: dependency.db: Replacing dependency.db would destroy its data" in text
    removal = render_human(_plan("env_live_key_absent_from_manifest_is_removed_explicitly"))
    assert "- env.OLD_FLAG = (sensitive value) -> null" in removal
    assert "not in the manifest" in removal


def test_waits_and_notes_are_explained() -> None:
    waiting = render_human(_plan("in_flight_deployment_is_awaited_not_duplicated"))
    assert "* service.web.deployment" in waiting
    assert "dep-2 is building" in waiting
    unstamped = render_human(_plan("unstamped_deployment_causes_no_churn"))
    assert "No changes." in unstamped
    assert "Note: service.web.deployment:" in unstamped


def test_an_empty_plan_says_no_changes_and_exits_zero() -> None:
    plan = _plan("no_changes")
    assert render_human(plan).rstrip().endswith("No changes. Live state matches the manifest.")
    assert plan.detailed_exit_code == 0
    assert _plan("env_literal_changed").detailed_exit_code == 2
    assert _plan("region_mismatch_is_an_error").detailed_exit_code == 1


def test_refresh_only_shows_drift_and_exits_two() -> None:
    plan = _plan("refresh_only_reports_drift_without_actions")
    text = render_human(plan)
    assert "refresh only" in text and "differs live" in text
    assert "Plan:" not in text
    assert plan.detailed_exit_code == 2


def test_colour_only_when_asked_and_never_with_no_color() -> None:
    plan = _plan("empty_project_creates_everything")
    coloured = render_human(plan, color=True)
    assert ANSI.search(coloured)
    assert ANSI.sub("", coloured).split() == render_human(plan).split()

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_color(Tty(), environ={}) is True
    # https://no-color.org: any non-empty value turns colour off; an empty one does not.
    for value in ("1", "true", "0", "yes"):
        assert use_color(Tty(), environ={"NO_COLOR": value}) is False, value
    assert use_color(Tty(), environ={"NO_COLOR": ""}) is True
    assert use_color(io.StringIO(), environ={}) is False


def test_markdown_is_a_collapsible_pull_request_comment() -> None:
    text = render_markdown(_plan("env_literal_changed"))
    assert text.startswith("### odplan plan: <code>shop</code> (production)")
    assert "**Plan: 0 to create, 1 to update, 0 to destroy, 1 to deploy.**" in text
    assert text.count("<details>") == text.count("</details>") == 2
    assert '! env.LOG_LEVEL = (sensitive value) -> "debug"' in text
    assert "| <code>&gt;</code> | <code>service.web.deployment</code> | deploy |" in text
    assert "**No changes.**" in render_markdown(_plan("no_changes"))


def test_markdown_cannot_be_broken_out_of_by_values() -> None:
    case = _case("no_changes")
    web = case.desired.services["web"]
    env = {**web.env, "LOG_LEVEL": DesiredValue.literal("```</details>|<script>")}
    desired = case.desired.model_copy(
        update={"services": {"web": web.model_copy(update={"env": env})}}
    )
    text = render_markdown(make_plan(desired, case.observed))
    fenced = re.findall(r"^(`{3,})diff\n(.*?)\n\1$", text, flags=re.S | re.M)
    assert any("```</details>" in body for ticks, body in fenced if len(ticks) > 3)
    outside = re.sub(r"^(`{3,})diff\n.*?\n\1$", "", text, flags=re.S | re.M)
    assert "<script>" not in outside
    assert outside.count("<details>") == outside.count("</details>") == 2


def test_graph_exports() -> None:
    plan = _plan("empty_project_creates_everything")
    dot = render_dot(plan)
    assert dot.startswith("digraph odplan {") and dot.rstrip().endswith("}")
    assert '"project" -> "dependency.db";' in dot
    assert '"service.web.deployment" -> "service.web.domain";' in dot
    mermaid = render_mermaid(plan)
    assert mermaid.startswith("flowchart LR")
    assert mermaid.count("-->") == sum(len(a.depends_on) for a in plan.actions)


def test_a_planted_canary_appears_in_no_view() -> None:
    case = _case("env_literal_changed")
    web = case.desired.services["web"]
    env = {
        **web.env,
        "API_KEY": DesiredValue.secret("api_key", CANARY),
        "MIXED": DesiredValue.template("https://user:", DesiredValue.secret("pw", CANARY).parts[0]),
    }
    desired = case.desired.model_copy(
        update={"services": {"web": web.model_copy(update={"env": env})}}
    )
    plan = make_plan(desired, case.observed, PlanOptions(salt=b"salt"))
    views = [
        render_human(plan),
        render_human(plan, color=True),
        plan_json(plan),
        render_markdown(plan),
        render_dot(plan),
        render_mermaid(plan),
        repr(desired),
        str(desired.services["web"].env["MIXED"]),
        repr(plan.actions),
    ]
    for view in views:
        assert CANARY not in view
