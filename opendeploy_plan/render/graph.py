"""The plan's action graph as Graphviz `dot` or Mermaid text (edges point from need to needer)."""

from __future__ import annotations

from opendeploy_plan.plan.model import Plan
from opendeploy_plan.render.symbols import SYMBOL


def _dot_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def render_dot(plan: Plan) -> str:
    """`digraph odplan { ... }` with one box per action, labelled `<symbol> <address>`."""
    lines = [
        "digraph odplan {",
        "  rankdir=LR;",
        '  node [shape=box, fontname="monospace"];',
    ]
    for action in plan.actions:
        label = f"{SYMBOL[action.kind]} {action.address}\n{action.kind.value}"
        lines.append(f"  {_dot_quote(action.address)} [label={_dot_quote(label)}];")
    for action in plan.actions:
        for need in action.depends_on:
            lines.append(f"  {_dot_quote(need)} -> {_dot_quote(action.address)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_label(text: str) -> str:
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;")


def render_mermaid(plan: Plan) -> str:
    """`flowchart LR` with node ids n0, n1, … in plan order."""
    ids = {action.address: f"n{i}" for i, action in enumerate(plan.actions)}
    lines = ["flowchart LR"]
    for action in plan.actions:
        label = _mermaid_label(f"{SYMBOL[action.kind]} {action.address} ({action.kind.value})")
        lines.append(f'  {ids[action.address]}["{label}"]')
    for action in plan.actions:
        for need in action.depends_on:
            lines.append(f"  {ids[need]} --> {ids[action.address]}")
    return "\n".join(lines) + "\n"
