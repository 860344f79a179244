"""The `odplan status` and `odplan deployments` views, cell by cell: which states show a
progress percentage, the SERVING column, how the terminal table shortens ids and URLs, the
database table, the footer, which view a pipe or `--json` gets, and the deployments list."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import click
import pytest
from click.testing import CliRunner

from opendeploy_plan.cli.views.status import (
    DeploymentsJSON,
    DeploymentsPlain,
    StatusJSON,
    StatusPlain,
    StatusRich,
    deployments_view,
    status_view,
)
from opendeploy_plan.ops.history import DeploymentRow
from opendeploy_plan.ops.project_status import ProjectStatus
from opendeploy_plan.ops.status import DatabaseStatus, ServiceStatus

LONG_A = "dep-aaaaaaaaaaaa1111"
LONG_B = "dep-bbbbbbbbbbbb2222"
DB_ID = "dbid-cccccccccccc3333"


def _run(show: Callable[[], None]) -> tuple[str, str]:
    result = CliRunner(env={"COLUMNS": "250", "NO_COLOR": "1"}).invoke(click.command()(show))
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def _status(*rows: ServiceStatus, **extra: object) -> ProjectStatus:
    return ProjectStatus("shop", "p-1", "staging", list(rows), **extra)  # type: ignore[arg-type]


def _plain(status: ProjectStatus) -> list[list[str]]:
    out, _ = _run(lambda: StatusPlain().status(status))
    return [line.split() for line in out.splitlines()]


@pytest.mark.parametrize(
    "state", ["success", "failed", "cancelled", "rolled_back", "not deployed", "not created"]
)
def test_a_settled_state_shows_no_percentage(state: str) -> None:
    lines = _plain(_status(ServiceStatus("web", "d-1", state, 40, serving_id="d-0")))
    assert " ".join(lines[2]).startswith(f"web {state} d-1 d-0")
    assert "40%" not in " ".join(lines[2])


@pytest.mark.parametrize("state", ["building", "deploying", "pending", "analyzing"])
def test_a_state_in_flight_shows_its_percentage(state: str) -> None:
    lines = _plain(_status(ServiceStatus("web", "d-1", state, 40)))
    assert lines[2][:4] == ["web", state, "40%", "d-1"]


def test_plain_columns_hold_every_field_in_order() -> None:
    row = ServiceStatus(
        "web",
        LONG_A,
        "success",
        100,
        url="https://web.example.app",
        cpu="100m/500m",
        memory="128Mi/512Mi",
        replicas=3,
        sync="in sync",
        serving_id=LONG_B,
    )
    lines = _plain(_status(row))
    assert lines[1] == [
        "SERVICE",
        "STATUS",
        "DEPLOYMENT",
        "SERVING",
        "URL",
        "CPU",
        "MEMORY",
        "REPLICAS",
        "MANIFEST",
    ]
    # Full ids and the URL as it is: plain columns are read to copy from.
    assert lines[2] == [
        "web",
        "success",
        LONG_A,
        LONG_B,
        "https://web.example.app",
        "100m/500m",
        "128Mi/512Mi",
        "3",
        "in",
        "sync",
    ]
    assert len(lines) == 3  # no database table, no footer


def test_plain_replicas_unknown_is_blank_not_zero() -> None:
    out, _ = _run(
        lambda: StatusPlain().status(_status(ServiceStatus("web", status="not created", sync="x")))
    )
    last = out.splitlines()[-1]
    assert last.split() == ["web", "not", "created", "-", "x"]
    assert " 0 " not in last


def test_plain_databases_come_after_a_blank_line() -> None:
    status = _status(
        ServiceStatus("web", "d-1", "success", 100, serving_id="d-1"),
        databases=[DatabaseStatus("db", DB_ID, "postgres", "running", "unmanaged")],
    )
    out, _ = _run(lambda: StatusPlain().status(status))
    lines = out.splitlines()
    assert lines[3] == ""
    assert lines[4].split() == ["DATABASE", "TYPE", "STATUS", "ID", "MANIFEST"]
    assert lines[5].split() == ["db", "postgres", "running", DB_ID, "unmanaged"]


def test_plain_footer_names_what_the_local_gateway_simulated() -> None:
    status = _status(ServiceStatus("web", "d-1", "success", 100, simulated="docker"))
    out, _ = _run(lambda: StatusPlain().status(status))
    assert out.splitlines()[-1] == (
        "  web: SIMULATED by the local gateway, nothing runs (missing docker)"
    )
    assert "success (simulated)" in out
    assert "odplan plan" not in out  # nothing pending


def test_project_pending_alone_also_points_at_plan() -> None:
    status = _status(ServiceStatus("web", "d-1", "success", 100), project_pending=("project.x",))
    out, _ = _run(lambda: StatusPlain().status(status))
    assert out.splitlines()[-2:] == ["  pending: project.x", "Run odplan plan for the details."]


def _rich(status: ProjectStatus) -> str:
    out, _ = _run(lambda: StatusRich().status(status))
    return out


def test_the_terminal_table_shortens_ids_and_urls() -> None:
    status = _status(
        ServiceStatus(
            "web",
            LONG_A,
            "failed",
            100,
            url="https://web.example.app",
            replicas=2,
            sync="changes pending",
            serving_id=LONG_B,
        ),
        ServiceStatus("api", LONG_B, "success", 100, serving_id=LONG_B, sync="in sync"),
        ServiceStatus("jobs", LONG_A, "building", 30, sync="unmanaged"),
        databases=[DatabaseStatus("db", DB_ID, "postgres", "running", "in sync")],
    )
    out = _rich(status)
    lines = [line.split() for line in out.splitlines() if line.strip()]
    assert lines[0] == ["shop", "(p-1),", "staging"]
    assert lines[1] == [
        "SERVICE",
        "STATUS",
        "DEPLOY",
        "SERVING",
        "URL",
        "CPU",
        "MEMORY",
        "REPL",
        "MANIFEST",
    ]
    body = [line for line in lines if line and line[0] in ("web", "api", "jobs", "db")]
    web = ["web", "failed", LONG_A[:8], LONG_B[:8], "web.example.app", "2", "changes", "pending"]
    assert body[0] == web
    assert body[1][:4] == ["api", "success", LONG_B[:8], "(same)"]
    assert body[2][:5] == ["jobs", "building", "30%", LONG_A[:8], "-"]
    assert body[3] == ["db", "postgres", "running", DB_ID[:8], "in", "sync"]
    assert LONG_A not in out and LONG_B not in out and DB_ID not in out
    assert "https://" not in out
    assert "[green]" not in out and "[/]" not in out  # the style is markup, not text


def test_the_terminal_table_footer() -> None:
    status = _status(
        ServiceStatus("web", "d-1", "success", 100, pending=("service.web.env.A (update)",)),
    )
    out = _rich(status)
    assert out.splitlines()[-2:] == [
        "  pending: service.web.env.A (update)",
        "Run odplan plan for the details.",
    ]
    assert "DATABASE" not in out


def test_json_status_is_the_whole_document() -> None:
    status = _status(ServiceStatus("web", "d-1", "success", 100, pending=("a",)))
    out, _ = _run(lambda: StatusJSON().status(status))
    assert json.loads(out) == status.as_dict()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_which_status_view(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert isinstance(status_view(as_json=False), StatusPlain)
    assert isinstance(status_view(as_json=True), StatusJSON)
    monkeypatch.setattr("sys.stdout", _Terminal())
    assert isinstance(status_view(as_json=False), StatusRich)
    assert isinstance(status_view(as_json=True), StatusJSON)
    assert isinstance(deployments_view(as_json=True), DeploymentsJSON)
    assert isinstance(deployments_view(as_json=False), DeploymentsPlain)


ROWS = [
    DeploymentRow(LONG_B, "success", "2024-01-02T00:00:00Z", "5m", "", True, "rollback to d-0"),
    DeploymentRow(LONG_A, "failed", "2024-01-01T00:00:00Z", "2h", "sha256:abc", False),
]


def test_the_deployments_list() -> None:
    out, err = _run(lambda: DeploymentsPlain().deployments("web", ROWS))
    lines = out.splitlines()
    assert lines[0] == "Deployments of web, newest first (* serves traffic)"
    assert lines[1].split() == ["DEPLOYMENT", "STATUS", "AGE", "SOURCE", "SERVING", "NOTE"]
    assert lines[2].split() == [LONG_B, "success", "5m", "(unknown)", "*", "rollback", "to", "d-0"]
    assert lines[3].split() == [LONG_A, "failed", "2h", "sha256:abc"]
    assert err == ""


def test_no_deployment_is_said_on_stderr() -> None:
    out, err = _run(lambda: DeploymentsPlain().deployments("web", []))
    assert out == ""
    assert err == "web has no deployment yet\n"


def test_the_deployments_json() -> None:
    out, _ = _run(lambda: DeploymentsJSON().deployments("web", ROWS))
    assert json.loads(out) == {"service": "web", "deployments": [r.as_dict() for r in ROWS]}


def test_only_the_url_wraps_on_a_narrow_terminal() -> None:
    url = "https://" + "segment-" * 12 + "end.example.app"
    row = ServiceStatus(
        "web",
        LONG_A,
        "success",
        100,
        url=url,
        cpu="100m/500m",
        memory="128Mi/512Mi",
        replicas=1,
        sync="in sync",
        serving_id=LONG_A,
    )
    status = _status(row)
    shown = CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1"}).invoke(
        click.command()(lambda: StatusRich().status(status))
    )
    first = next(line.split() for line in shown.stdout.splitlines() if "web" in line)
    assert first[:4] == ["web", "success", LONG_A[:8], "(same)"]
    assert first[-5:] == ["100m/500m", "128Mi/512Mi", "1", "in", "sync"]
    assert "end.examp" in shown.stdout  # the URL's end, on a wrapped line


def test_an_unknown_sync_state_is_shown_plain() -> None:
    status = _status(
        ServiceStatus("web", "d-1", "success", 100, sync="unknown"),
        databases=[DatabaseStatus("db", DB_ID, "postgres", "running", "unknown")],
    )
    out = _rich(status)
    assert "[" not in out and "]" not in out
    rows = [line.split() for line in out.splitlines() if line.strip()]
    assert ["db", "postgres", "running", DB_ID[:8], "unknown"] in rows
