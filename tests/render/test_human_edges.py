"""The human plan view, line by line, on hand-built plans: the drift heading, the detail line,
unmanaged rows, notes and diagnostics (errors red, detail lines kept, path optional), the drift
count's plural, trailing blanks trimmed, and non-ASCII values shown as written."""

from __future__ import annotations

from opendeploy_plan.diagnostics import Diagnostic
from opendeploy_plan.plan import PlanOptions
from opendeploy_plan.plan.model import (
    ActionKind,
    ActionReason,
    AttributeChange,
    ChangeKind,
    PlannedAction,
    PlanNote,
)
from opendeploy_plan.render import render_human
from tests.plan.golden import quiet_plan

UPDATE = PlannedAction(
    address="service.web",
    kind=ActionKind.UPDATE,
    reason=ActionReason.ENV_CHANGED,
    changes=(AttributeChange("env.GREETING", ChangeKind.CHANGE, before="hi", after="héllo ✓"),),
    detail="two rows share this name",
)


def test_drift_heading_says_what_a_plan_would_do_and_counts_one_difference() -> None:
    plan = quiet_plan(options=PlanOptions(refresh_only=True), actions=(), drift=(UPDATE,))
    text = render_human(plan)
    assert "  # service.web differs live (would be updated in place): " in text
    assert text.rstrip().splitlines()[-1] == (
        "Drift: 1 difference. Run odplan plan to see the actions that would fix it."
    )
    two = quiet_plan(options=PlanOptions(refresh_only=True), actions=(), drift=(UPDATE, UPDATE))
    assert "Drift: 2 differences." in render_human(two)


def test_detail_is_a_parenthesised_comment_and_non_ascii_values_are_shown_as_written() -> None:
    text = render_human(quiet_plan(actions=(UPDATE,)))
    assert "  # (two rows share this name)\n" in text
    assert '~ env.GREETING = "hi" -> "héllo ✓"' in text


def test_unmanaged_rows_are_listed_even_without_actions() -> None:
    text = render_human(quiet_plan(actions=(), unmanaged=("service.old", "dependency.cache")))
    assert "Unmanaged (live, not in the manifest; left alone unless --prune):" in text
    assert "  ? service.old\n  ? dependency.cache\n" in text
    assert text.rstrip().endswith("No changes. Live state matches the manifest.")


def test_notes_and_diagnostics_each_get_a_line_and_a_blank_line_before_the_summary() -> None:
    notes = (PlanNote("service.web", "kept as is"),)
    text = render_human(quiet_plan(actions=(), notes=notes))
    assert "Note: service.web: kept as is\n\nNo changes." in text
    diagnostics = (
        Diagnostic("", 0, 0, "error", "service.web.port", "port clash", "first\nsecond"),
        Diagnostic("", 0, 0, "warning", "", "no path here"),
    )
    text = render_human(quiet_plan(actions=(), diagnostics=diagnostics))
    assert "Error: service.web.port: port clash\n  first\n  second\n" in text
    assert "Warning: no path here\n\nNo changes." in text


def test_errors_are_red_and_warnings_yellow_in_colour() -> None:
    diagnostics = (
        Diagnostic("", 0, 0, "error", "a", "bad"),
        Diagnostic("", 0, 0, "warning", "b", "meh"),
    )
    text = render_human(quiet_plan(actions=(), diagnostics=diagnostics), color=True)
    error_line = next(line for line in text.splitlines() if "Error:" in line)
    warning_line = next(line for line in text.splitlines() if "Warning:" in line)
    assert "\x1b[1;31m" in error_line
    assert "\x1b[33m" in warning_line and "31m" not in warning_line


def test_no_line_of_the_plain_view_ends_in_blanks() -> None:
    detail = "first paragraph\n\nsecond paragraph"
    diagnostics = (Diagnostic("", 0, 0, "warning", "a", "two paragraphs", detail),)
    text = render_human(quiet_plan(actions=(UPDATE,), diagnostics=diagnostics))
    assert "  first paragraph\n\n  second paragraph\n" in text
    assert all(line == line.rstrip() for line in text.splitlines())
    assert "\n\n" in text  # blank separator lines stay, empty


def test_the_legend_names_every_symbol_a_plan_can_show() -> None:
    text = render_human(quiet_plan(actions=(UPDATE,)))
    legend = next(line for line in text.splitlines() if line.startswith("Symbols: "))
    for entry in ("+ create", "~ update in place", "-/+ replace", "- destroy"):
        assert entry in legend
    for entry in ("^ upload source", "> deploy", "* wait"):
        assert entry in legend
