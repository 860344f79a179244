"""The human view of a plan: Terraform-like blocks, one per action, and a one-line summary.

Colour comes from rich and is off unless asked for; `use_color(stream)` is the CLI's test
(a terminal, and `NO_COLOR` unset).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import TextIO

from rich.console import Console
from rich.text import Text

from opendeploy_plan.plan.model import REASON_TEXT, Plan, PlannedAction
from opendeploy_plan.render.symbols import (
    CHANGE_STYLE,
    CHANGE_SYMBOL,
    LEGEND,
    STYLE,
    SYMBOL,
    VERB,
    format_value,
)


class Line:
    """One output line as styled segments; plain text without rich, a rich Text on demand."""

    __slots__ = ("segments",)

    def __init__(self, text: str = "", style: str | None = None) -> None:
        self.segments: list[tuple[str, str | None]] = [(text, style)] if text else []

    def append(self, text: str, style: str | None = None) -> None:
        self.segments.append((text, style))

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.segments)

    def to_text(self) -> Text:
        return Text.assemble(*((t, s) if s else t for t, s in self.segments))


def use_color(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when `stream` is a terminal and `NO_COLOR` is not set (https://no-color.org)."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _action_lines(action: PlannedAction, drift: bool = False) -> list[Line]:
    symbol = SYMBOL[action.kind]
    style = STYLE[action.kind]
    verb = "differs live (would be " + VERB[action.kind].removeprefix("will be ") + ")"
    heading = Line(f"  # {action.address} {verb if drift else VERB[action.kind]}", style="dim")
    heading.append(f": {REASON_TEXT[action.reason]}", style="dim")
    lines = [heading]
    if action.detail:
        lines.append(Line(f"  # ({action.detail})", style="dim"))
    head = Line("  ")
    head.append(f"{symbol} ", style=f"bold {style}")
    head.append(action.address, style="bold")
    lines.append(head)
    width = max((len(c.path) for c in action.changes), default=0)
    for change in action.changes:
        line = Line("      ")
        line.append(CHANGE_SYMBOL[change.kind], style=CHANGE_STYLE[change.kind])
        line.append(f" {change.path.ljust(width)} = ")
        if change.kind.value == "change":
            line.append(format_value(change.before))
            line.append(" -> ", style="dim")
            line.append(format_value(change.after))
        elif change.kind.value == "add":
            line.append(format_value(change.after))
        else:
            line.append(format_value(change.before))
            line.append(" -> null", style="dim")
        if change.note:
            line.append(f"  # {change.note}", style="dim")
        lines.append(line)
    lines.append(Line(""))
    return lines


def plan_lines(plan: Plan) -> list[Line]:
    """The whole view as styled lines (`Line.to_text()` gives rich Text for a Console)."""
    lines: list[Line] = []
    title = f"odplan plan for project {plan.project!r} ({plan.environment})"
    if plan.refresh_only:
        title += ", refresh only"
    lines.append(Line(title, style="bold"))
    lines.append(Line(""))
    if plan.refresh_only:
        if plan.drift:
            lines.append(Line("Live state differs from the manifest:"))
            lines.append(Line(""))
            for action in plan.drift:
                lines.extend(_action_lines(action, drift=True))
        else:
            lines.append(Line("No drift: live state matches the manifest.", style="bold green"))
            lines.append(Line(""))
    elif plan.actions:
        lines.append(Line(f"Symbols: {LEGEND}", style="dim"))
        lines.append(Line(""))
        for action in plan.actions:
            lines.extend(_action_lines(action))
    if plan.unmanaged:
        lines.append(Line("Unmanaged (live, not in the manifest; left alone unless --prune):"))
        for address in plan.unmanaged:
            lines.append(Line(f"  ? {address}", style="dim"))
        lines.append(Line(""))
    for note in plan.notes:
        lines.append(Line(f"Note: {note.address}: {note.message}", style="dim"))
    for diag in plan.diagnostics:
        style = "bold red" if diag.is_error else "yellow"
        label = "Error" if diag.is_error else "Warning"
        text = Line(f"{label}: ", style=style)
        text.append(f"{diag.path}: {diag.summary}" if diag.path else diag.summary)
        lines.append(text)
        for detail_line in diag.detail.splitlines():
            lines.append(Line(f"  {detail_line}"))
    if plan.notes or plan.diagnostics:
        lines.append(Line(""))
    if plan.refresh_only:
        if plan.drift:
            count = len(plan.drift)
            lines.append(
                Line(
                    f"Drift: {count} difference{'s' if count != 1 else ''}. "
                    "Run odplan plan to see the actions that would fix it.",
                    style="bold",
                )
            )
    else:
        if plan.actions:
            lines.append(Line(plan.summary.line(), style="bold"))
        else:
            lines.append(Line("No changes. Live state matches the manifest.", style="bold green"))
    return lines


def render_human(plan: Plan, *, color: bool = False, width: int = 100) -> str:
    """The plan as text; ANSI colour only when `color` is true."""
    lines = plan_lines(plan)
    if not color:
        return "\n".join(line.plain.rstrip() for line in lines) + "\n"
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=True,
        color_system="standard",
        width=width,
        no_color=False,
        highlight=False,
        soft_wrap=True,
    )
    # One print of the whole text: rich's per-call overhead dominates on large plans.
    console.print(Text("\n").join(line.to_text() for line in lines))
    return buffer.getvalue()
