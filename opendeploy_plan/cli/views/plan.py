"""The `odplan plan` views: the plan on stdout as human text, JSON or Markdown.

One interface (`PlanView`), one implementation per format, chosen once by `plan_view()`; the
command never branches on the format (Terraform's `command/views/plan.go`).
"""

from __future__ import annotations

from typing import Protocol

import click

from opendeploy_plan import platform
from opendeploy_plan.plan import Plan, plan_json
from opendeploy_plan.render.human import render_human
from opendeploy_plan.render.markdown import render_markdown

__all__ = ["PlanHuman", "PlanJSON", "PlanMarkdown", "PlanView", "plan_view", "show_guest_note"]


class PlanView(Protocol):
    """Shows a finished plan. `shows_diagnostics`: the plan's own diagnostics are part of the
    output, so stderr need not repeat them."""

    @property
    def shows_diagnostics(self) -> bool: ...

    def plan(self, plan: Plan) -> None: ...


class PlanHuman:
    """Terraform-like blocks, read on a terminal; colour only when `color`."""

    shows_diagnostics = True

    def __init__(self, *, color: bool) -> None:
        self.color = color

    def plan(self, plan: Plan) -> None:
        click.echo(render_human(plan, color=self.color), color=self.color)


class PlanJSON:
    """The plan document (`schemas/plan.schema.json`); usually piped to a file or a tool."""

    shows_diagnostics = False

    def plan(self, plan: Plan) -> None:
        click.echo(plan_json(plan))


class PlanMarkdown:
    """A pull-request comment."""

    shows_diagnostics = False

    def plan(self, plan: Plan) -> None:
        click.echo(render_markdown(plan))


def plan_view(output_format: str, *, color: bool) -> PlanView:
    """The view for `--format` (`human`, `json` or `markdown`)."""
    if output_format == "json":
        return PlanJSON()
    if output_format == "markdown":
        return PlanMarkdown()
    return PlanHuman(color=color)


def show_guest_note(bind_url: str | None) -> None:
    """On stderr: the guest caps (from the platform rules) and how to lift them. A guest token
    given as OD_API_KEY carries no guest_id/bind_sig, so its binding URL cannot be derived."""
    caps = (
        f"caps: {platform.GUEST_SERVICES_PER_PROJECT} service per project, "
        f"{platform.GUEST_CPU_LIMIT_MILLICORES / 1000:g} vCPU, "
        f"{platform.GUEST_MEMORY_LIMIT_BYTES / 1024**3:g} GiB, "
        f"{platform.GUEST_MAX_REPLICAS} replica"
    )
    where = (
        f"Bind it: {bind_url}"
        if bind_url
        else "Bind it with the binding URL printed when it was registered."
    )
    click.echo(
        f"note: this guest credential is not linked to an account ({caps}). {where}", err=True
    )
