"""Views of a `Plan`: human (rich), Markdown (pull-request comment), dot and mermaid; the JSON
form is the plan document itself (`opendeploy_plan.plan.plan_json`).

Each renderer takes a `Plan` and returns text; the command views (`cli/views/`) decide where it
goes. Renderers only read
display-safe values, so no secret can reach their output.
"""

from __future__ import annotations

from opendeploy_plan.render.graph import render_dot, render_mermaid
from opendeploy_plan.render.human import render_human, use_color
from opendeploy_plan.render.markdown import render_markdown

__all__ = [
    "render_dot",
    "render_human",
    "render_markdown",
    "render_mermaid",
    "use_color",
]
