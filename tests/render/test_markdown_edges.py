"""The Markdown plan comment on hand-built plans: every user-controlled text is escaped (cells,
details, diagnostics, notes, environment), fences outgrow backticks in values, the counts in
headlines count the right things, and the footer shows the documented digest prefixes."""

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
from opendeploy_plan.render import render_markdown
from tests.plan.golden import quiet_plan

HOSTILE = "<b>x</b> | y\nz"
HOSTILE_ESCAPED = "&lt;b&gt;x&lt;/b&gt; &#124; y z"


def _action(**fields: object) -> PlannedAction:
    values: dict[str, object] = {
        "address": "service.web",
        "kind": ActionKind.UPDATE,
        "reason": ActionReason.ENV_CHANGED,
    }
    values.update(fields)
    return PlannedAction(**values)  # type: ignore[arg-type]


def test_user_text_is_escaped_in_detail_diagnostics_notes_and_environment() -> None:
    plan = quiet_plan(
        environment="prod<i>",
        actions=(_action(detail=HOSTILE),),
        diagnostics=(Diagnostic("", 0, 0, "warning", "svc", HOSTILE, HOSTILE),),
        notes=(PlanNote("service.web", HOSTILE),),
        unmanaged=("service.<old>",),
    )
    text = render_markdown(plan)
    assert "<b>" not in text and "<i>" not in text and "<old>" not in text
    assert f"\n{HOSTILE_ESCAPED}\n" in text  # the detail paragraph
    assert f"- ⚠️ Warning: <code>svc</code>: {HOSTILE_ESCAPED}" in text
    assert f"  <br>{HOSTILE_ESCAPED}" in text
    assert f"- ℹ️ <code>service.web</code>: {HOSTILE_ESCAPED}" in text
    assert "(prod&lt;i&gt;)" in text
    assert "- <code>service.&lt;old&gt;</code>" in text


def test_diagnostics_are_labelled_by_severity_and_path_is_optional() -> None:
    plan = quiet_plan(
        diagnostics=(
            Diagnostic("", 0, 0, "error", "a.b", "bad"),
            Diagnostic("", 0, 0, "warning", "", "meh"),
            Diagnostic("", 0, 0, "warning", "c", "also"),
        )
    )
    text = render_markdown(plan)
    assert "- ❌ Error: <code>a.b</code>: bad" in text
    assert "- ⚠️ Warning: meh" in text
    assert "> **1 error(s): this plan cannot be applied.**" in text
    assert "<br>" not in text  # no detail, no detail line


def test_unmanaged_count_and_drift_count_count_their_own_rows() -> None:
    action = _action()
    plan = quiet_plan(actions=(action, action), unmanaged=("service.old",))
    assert "<summary>1 unmanaged resource(s) left alone</summary>" in render_markdown(plan)
    drift = quiet_plan(options=PlanOptions(refresh_only=True), actions=(), drift=(action,))
    text = render_markdown(drift)
    assert "**Drift: 1 difference(s).**" in text
    assert "<summary><code>~ service.web</code> differs live: " in text


def test_fences_outgrow_backticks_in_values_and_notes_are_comments() -> None:
    change = AttributeChange("env.X", ChangeKind.ADD, after="a`b", note="why")
    text = render_markdown(quiet_plan(actions=(_action(changes=(change,)),)))
    assert '```diff\n+ env.X = "a`b"  # why\n```' in text
    empty = render_markdown(quiet_plan(actions=(_action(),)))
    assert "\n```diff\n(no attribute changes)\n```\n" in empty


def test_footer_shows_24_characters_of_fingerprint_and_19_of_source_digest() -> None:
    plan = quiet_plan(fingerprint="f" * 30 + "TAIL", source_digest="sha256:" + "d" * 12 + "TAIL")
    text = render_markdown(plan)
    assert text.rstrip().splitlines()[-1] == (
        f"<sub>observed fingerprint <code>{'f' * 24}</code>, "
        f"source <code>sha256:{'d' * 12}</code></sub>"
    )


def test_reason_text_is_a_cell_in_the_table() -> None:
    text = render_markdown(quiet_plan(actions=(_action(),)))
    row = next(line for line in text.splitlines() if line.startswith("| <code>~</code>"))
    assert row.startswith("| <code>~</code> | <code>service.web</code> | update | ")
    assert row.endswith(" |") and row.count(" | ") == 3
