"""The plan as a pull-request comment: summary, a table of actions, collapsible diffs.

Everything user-controlled is escaped (table cells, HTML in summaries, backticks in fences), so a
value cannot break out of its block.
"""

from __future__ import annotations

import html
import re

from opendeploy_plan.plan.model import REASON_TEXT, ActionKind, Plan, PlannedAction
from opendeploy_plan.render.symbols import CHANGE_SYMBOL, SYMBOL, VERB, format_value

_KIND_LABEL = {
    ActionKind.CREATE: "create",
    ActionKind.UPDATE: "update",
    ActionKind.REPLACE: "replace",
    ActionKind.DELETE: "destroy",
    ActionKind.BIND_SOURCE: "upload source",
    ActionKind.DEPLOY: "deploy",
    ActionKind.RENAME_DOMAIN: "rename domain",
    ActionKind.WAIT: "wait",
}


def _cell(text: str) -> str:
    return html.escape(text).replace("|", "&#124;").replace("\n", " ")


def _code(text: str) -> str:
    return f"<code>{_cell(text)}</code>"


def _fence(body: str, info: str = "diff") -> str:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{body}\n{ticks}"


def _diff_body(action: PlannedAction) -> str:
    rows: list[str] = []
    for change in action.changes:
        symbol = CHANGE_SYMBOL[change.kind]
        # diff syntax colours only `+`/`-` lines; `!` is the conventional "changed" marker.
        marker = {"+": "+", "-": "-", "~": "!"}[symbol]
        if change.kind.value == "change":
            value = f"{format_value(change.before)} -> {format_value(change.after)}"
        elif change.kind.value == "add":
            value = format_value(change.after)
        else:
            value = format_value(change.before)
        note = f"  # {change.note}" if change.note else ""
        rows.append(f"{marker} {change.path} = {value}{note}")
    return "\n".join(rows) if rows else "(no attribute changes)"


def _section(action: PlannedAction, drift: bool) -> list[str]:
    verb = "differs live" if drift else VERB[action.kind]
    summary = (
        f"<code>{_cell(SYMBOL[action.kind])} {_cell(action.address)}</code> {verb}: "
        f"{_cell(REASON_TEXT[action.reason])}"
    )
    lines = ["<details>", f"<summary>{summary}</summary>", ""]
    if action.detail:
        lines += [_cell(action.detail), ""]
    lines += [_fence(_diff_body(action)), "", "</details>", ""]
    return lines


def render_markdown(plan: Plan) -> str:
    """A self-contained Markdown comment for a pull request."""
    out = [f"### odplan plan: {_code(plan.project)} ({_cell(plan.environment)})", ""]
    actions = plan.drift if plan.refresh_only else plan.actions
    if plan.refresh_only:
        headline = f"**Drift: {len(plan.drift)} difference(s).**" if plan.drift else "**No drift.**"
    elif plan.actions:
        headline = f"**{plan.summary.line()}**"
    else:
        headline = "**No changes.** Live state matches the manifest."
    out += [headline, ""]
    if plan.errors:
        out.append(f"> **{len(plan.errors)} error(s): this plan cannot be applied.**")
        out.append("")
    if actions:
        out += ["| | Address | Action | Why |", "|---|---|---|---|"]
        for action in actions:
            out.append(
                f"| {_code(SYMBOL[action.kind])} | {_code(action.address)} | "
                f"{_KIND_LABEL[action.kind]} | {_cell(REASON_TEXT[action.reason])} |"
            )
        out.append("")
        for action in actions:
            out += _section(action, plan.refresh_only)
    if plan.unmanaged:
        out.append("<details>")
        out.append(f"<summary>{len(plan.unmanaged)} unmanaged resource(s) left alone</summary>")
        out.append("")
        out += [f"- {_code(a)}" for a in plan.unmanaged]
        out += ["", "</details>", ""]
    if plan.diagnostics or plan.notes:
        for diag in plan.diagnostics:
            label = "❌ Error" if diag.is_error else "⚠️ Warning"
            where = f"{_code(diag.path)}: " if diag.path else ""
            out.append(f"- {label}: {where}{_cell(diag.summary)}")
            if diag.detail:
                out.append(f"  <br>{_cell(diag.detail)}")
        for note in plan.notes:
            out.append(f"- ℹ️ {_code(note.address)}: {_cell(note.message)}")
        out.append("")
    out.append(
        f"<sub>observed fingerprint {_code(plan.fingerprint[:24])}, "
        f"source {_code(plan.source_digest[:19])}</sub>"
    )
    return "\n".join(out) + "\n"
