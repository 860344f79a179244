"""`odplan status` piped (plain columns): the SERVING column says `(same)` when the latest
deployment is the one serving, names the older one that serves while a newer one failed or
runs, and `-` when nothing succeeded yet; an unsettled state shows its progress; pending
changes are listed under the table with the way to see them."""

from __future__ import annotations

import click
from click.testing import CliRunner

from opendeploy_plan.cli.views.status import StatusPlain
from opendeploy_plan.ops.project_status import ProjectStatus
from opendeploy_plan.ops.status import ServiceStatus


def _shown(*rows: ServiceStatus, pending: tuple[str, ...] = ()) -> list[list[str]]:
    status = ProjectStatus("shop", "p-1", "production", list(rows), project_pending=pending)
    runner = CliRunner()

    def show() -> None:
        StatusPlain().status(status)

    result = runner.invoke(click.command()(show))
    assert result.exit_code == 0, result.output
    return [line.split() for line in result.output.splitlines()]


def test_the_serving_column() -> None:
    lines = _shown(
        ServiceStatus("web", "d-2", "success", 100, serving_id="d-2", sync="in sync"),
        ServiceStatus("api", "d-9", "failed", 100, serving_id="d-7", sync="in sync"),
        ServiceStatus("jobs", "d-4", "building", 40, sync="in sync"),
    )
    assert lines[0] == ["Project", "shop", "(p-1),", "production"]
    assert lines[1][:4] == ["SERVICE", "STATUS", "DEPLOYMENT", "SERVING"]
    assert lines[2][:4] == ["web", "success", "d-2", "(same)"]
    assert lines[3][:4] == ["api", "failed", "d-9", "d-7"]
    assert lines[4][:5] == ["jobs", "building", "40%", "d-4", "-"]


def test_pending_changes_are_listed_with_the_way_to_see_them() -> None:
    lines = _shown(
        ServiceStatus("web", "d-2", "success", 100, serving_id="d-2", pending=("env.A",)),
        pending=("project.source",),
    )
    assert lines[-3:] == [
        ["pending:", "env.A"],
        ["pending:", "project.source"],
        ["Run", "odplan", "plan", "for", "the", "details."],
    ]
