"""Views of a `Plan`: human (rich), JSON, Markdown (pull-request comment), dot and mermaid.

Each renderer takes a `Plan` and returns text; the CLI decides where it goes. Renderers only read
display-safe values, so no secret can reach their output.
"""

from __future__ import annotations

from opendeploy_plan.plan.document import plan_json as render_json
from opendeploy_plan.render.graph import render_dot, render_mermaid
from opendeploy_plan.render.human import render_human, use_color
from opendeploy_plan.render.markdown import render_markdown

__all__ = [
    "render_dot",
    "render_human",
    "render_json",
    "render_markdown",
    "render_mermaid",
    "use_color",
]
