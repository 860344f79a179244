"""Issue 16 (items 2, 3, 4, 10) and issue 17 item 10, piped: `odplan` as a child process over
real HTTP against a local gateway on 127.0.0.1 (real clock, sub-second phases).

The gateway is remembered per folder and named on the first line; a refused connection fails at
once with a hint naming `--gateway local`; retries are said as they happen; the final report's
headline says what happened (rename, no-op, failed rename); progress is one line per event
when piped; the words of item 10; SIGTERM ends apply with the summary SIGINT prints.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.apply_support import Odplan, RealGateway, describe, real_gateway

SITE = """\
version: 1
project:
  name: {project}
services:
  site:
    type: static
    source: public
    subdomain: {subdomain}
"""


def write_site(root: Path, project: str = "hello", subdomain: str = "hello-ux") -> Path:
    (root / "public").mkdir(parents=True, exist_ok=True)
    (root / "public" / "index.html").write_text("<h1>Hello</h1>\n")
    path = root / "opendeploy.yaml"
    path.write_text(SITE.format(project=project, subdomain=subdomain))
    return path


@pytest.fixture
def gateway() -> Iterator[RealGateway]:
    with real_gateway() as running:
        yield running


@pytest.fixture
def site(gateway: RealGateway, tmp_path: Path) -> Odplan:
    home = tmp_path / "home"
    home.mkdir()
    return Odplan(gateway, home, write_site(tmp_path / "app"))


def bare_env(odplan: Odplan) -> dict[str, str]:
    """The child's environment without `OD_GATEWAY`: the folder link must be what counts."""
    env = dict(odplan.env)
    env.pop("OD_GATEWAY", None)
    return env


def run_bare(
    odplan: Odplan, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`odplan ARGS` with no --gateway and no OD_GATEWAY, in the manifest's folder."""
    return subprocess.run(
        [sys.executable, "-m", "opendeploy_plan", *args],
        capture_output=True,
        text=True,
        env=bare_env(odplan),
        cwd=cwd or odplan.manifest.parent,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- item 2: the sticky gateway -------------------------------------------------------------------


def test_apply_links_the_folder_and_later_commands_use_and_name_that_gateway(
    site: Odplan,
) -> None:
    applied = site.apply()
    assert applied.returncode == 0, describe(applied)
    assert applied.stderr.splitlines()[0] == f"Gateway: {site.gateway.base_url} (--gateway)"

    link = site.manifest.parent / ".opendeploy" / "gateway.json"
    stored = json.loads(link.read_text())
    assert stored["gateway"] == site.gateway.base_url
    assert site.gateway.dashboard_token not in link.read_text()  # never a credential

    status = run_bare(site, "status")
    assert status.returncode == 0, describe(status)
    first = status.stderr.splitlines()[0]
    assert first.startswith(f"Gateway: {site.gateway.base_url} (remembered in ")
    assert "site" in status.stdout and "success" in status.stdout

    planned = run_bare(site, "plan", "--detailed-exitcode")
    assert planned.returncode == 0, describe(planned)
    assert "remembered" in planned.stderr.splitlines()[0]


def test_an_explicit_gateway_beats_the_folder_link(site: Odplan) -> None:
    assert site.apply().returncode == 0
    url = f"http://127.0.0.1:{closed_port()}/api"

    result = run_bare(site, "status", "--gateway", url)

    assert result.returncode == 1, describe(result)
    assert result.stderr.splitlines()[0] == f"Gateway: {url} (--gateway)"


def test_a_refused_connection_fails_at_once_with_a_hint_naming_gateway_local(
    site: Odplan,
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api"

    result = run_bare(site, "plan", "--gateway", url)

    assert result.returncode == 1, describe(result)
    assert "cannot connect" in result.stderr
    assert "--gateway local" in result.stderr
    assert "retrying" not in result.stderr  # nothing listens: no backoff, no retries
    assert "Traceback" not in result.stderr


def test_retries_are_said_as_they_happen(site: Odplan) -> None:
    site.gateway.add_fault(kind="error", method="GET", route="/api/v1/projects*", count=1)

    result = site.plan()

    assert result.returncode == 0, describe(result)
    assert "failed (HTTP 503); retrying 1/2 in " in result.stderr


@pytest.mark.parametrize(
    "command",
    [("graph",), ("status",), ("deployments",), ("logs",), ("destroy", "--auto-approve")],
)
def test_every_command_says_its_retries(site: Odplan, command: tuple[str, ...]) -> None:
    """Not only plan and apply: each command that reads the gateway says a retry as it
    happens, so a slow answer is never a silent pause."""
    assert site.apply().returncode == 0
    site.gateway.add_fault(kind="error", method="GET", route="/api/v1/projects*", count=1)

    result = site.run(*command)

    assert result.returncode == 0, describe(result)
    assert "failed (HTTP 503); retrying 1/2 in " in result.stderr, describe(result)


@pytest.mark.parametrize("command", ["graph", "status", "deployments", "logs"])
def test_every_command_says_its_retries_on_the_documented_profile(
    tmp_path: Path, command: str
) -> None:
    """The same against a gateway that answers only what the documents promise."""
    home = tmp_path / "home"
    home.mkdir()
    with real_gateway(profile="documented") as documented:
        site = Odplan(documented, home, write_site(tmp_path / "app"))
        assert site.apply().returncode == 0
        documented.add_fault(kind="error", method="GET", route="/api/v1/projects*", count=1)

        result = site.run(command)

    assert result.returncode == 0, describe(result)
    assert "failed (HTTP 503); retrying 1/2 in " in result.stderr, describe(result)
    if command == "status":
        assert "Refreshing state…" in result.stderr, describe(result)


def test_status_says_it_refreshes_before_its_table(site: Odplan) -> None:
    assert site.apply().returncode == 0

    result = site.run("status")

    assert result.returncode == 0, describe(result)
    assert "Refreshing state…" in result.stderr, describe(result)
    assert "Refreshing state…" not in result.stdout  # the table stays clean for a pipe


# --- item 3: the report's headline ----------------------------------------------------------------


def test_the_headline_says_what_happened_rename_no_op_and_failed_rename(site: Odplan) -> None:
    first = site.apply()
    assert first.returncode == 0, describe(first)
    assert first.stdout.count("## Deployment successful") == 1  # piped: the skill's Markdown

    same = site.apply()
    assert same.returncode == 0, describe(same)
    assert "## No changes" in same.stdout
    assert "Deployment" not in same.stdout.split("\n", 1)[0]

    site.manifest.write_text(SITE.format(project="hello", subdomain="hello-renamed"))
    renamed = site.apply()
    assert renamed.returncode == 0, describe(renamed)
    assert "## Subdomain renamed" in renamed.stdout
    assert "https://hello-renamed." in renamed.stdout

    site.manifest.write_text(SITE.format(project="hello", subdomain="hello-again"))
    site.gateway.add_fault(kind="error", method="PUT", route="*subdomain*", status=500)
    failed = site.apply()
    assert failed.returncode == 1, describe(failed)
    assert "## Subdomain rename failed" in failed.stdout
    assert "Deployment failed" not in failed.stdout
    assert "retrying 1/2 in" in failed.stderr  # said as it happened
    as_json = site.apply("--json")
    assert json.loads(as_json.stdout)["headline"] == "Subdomain rename failed"


def test_format_human_prints_the_aligned_summary_without_markdown(site: Odplan) -> None:
    result = site.apply("--format", "human")

    assert result.returncode == 0, describe(result)
    assert "✓ Deployment successful" in result.stdout
    assert "**" not in result.stdout and "##" not in result.stdout and "\n---" not in result.stdout
    report = result.stdout.split("✓ Deployment successful", 1)[1]
    rows = [line for line in report.splitlines() if line.startswith("  ") and line[2:15].strip()]
    labels = {line[2:15].strip() for line in rows}
    assert {"Live URL", "Project", "Environment", "Service", "Log file"} <= labels
    # Aligned: every value starts in column 15, after its label's padding.
    assert all(line[14] == " " and line[15] != " " for line in rows), rows


def test_a_successful_cancel_has_a_cancel_headline_and_succeeds(site: Odplan) -> None:
    assert site.apply().returncode == 0
    site.gateway.admin("POST", "/deployment-faults", {"mode": "stall", "phase": "building"})
    headers = {"Authorization": f"Bearer {site.gateway.dashboard_token}"}
    with httpx.Client(base_url=site.gateway.base_url + "/", headers=headers) as http:
        project = next(p for p in http.get("v1/projects/").json()["data"] if p["name"] == "hello")
        latest = http.get("v1/deployments/", params={"project_id": project["id"]}).json()["data"][0]
        started = http.post(
            "v1/deployments/",
            json={
                "project_id": project["id"],
                "service_id": latest["service_id"],
                "environment": "production",
                "source": "zip",
                "temp_file_path": latest["temp_file_path"],
            },
        )
        assert started.status_code == 201, started.text

    cancelled = run_bare(site, "cancel", "site", "--yes")

    assert cancelled.returncode == 0, describe(cancelled)
    assert "## Deployment cancelled" in cancelled.stdout
    assert "Deployment failed" not in cancelled.stdout


# --- item 4: progress, piped ----------------------------------------------------------------------


def test_piped_progress_is_one_line_per_event(site: Odplan) -> None:
    result = site.apply()

    assert result.returncode == 0, describe(result)
    assert "Refreshing state…" in result.stderr
    lines = [line for line in result.stderr.splitlines() if "service.site.deployment:" in line]
    assert not any(line.rstrip().endswith("%") for line in lines), lines
    assert len(lines) == len(set(line.split("] ", 1)[1] for line in lines)), lines
    assert "\x1b[" not in result.stderr  # NO_COLOR: no escape codes


# --- item 10: wording -----------------------------------------------------------------------------


def test_help_says_plan_exits_2_only_with_detailed_exitcode() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "opendeploy_plan", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in result.stdout.splitlines() if x.strip().startswith("plan "))
    assert "(--detailed-exitcode: exit 2 if any)" in line


def test_a_failed_build_says_failed_not_ended_failed(site: Odplan) -> None:
    site.gateway.admin(
        "POST",
        "/deployment-faults",
        {"mode": "fail", "phase": "build", "logs": ["npm ERR! boom"], "count": 1},
    )

    result = site.apply()

    assert result.returncode == 1, describe(result)
    assert "ended failed" not in result.stderr + result.stdout
    assert " failed: " in result.stderr


def test_package_names_the_secret_files_it_leaves_out(site: Odplan) -> None:
    (site.manifest.parent / "public" / ".env").write_text("TOKEN=x\n")

    result = run_bare(site, "package", "-f", str(site.manifest))

    assert result.returncode == 0, describe(result)
    assert "left out as secrets, never uploaded (1): public/.env" in result.stdout
    assert "kept home" not in result.stdout


# --- issue 17 item 10: SIGTERM ends apply like Ctrl-C ---------------------------------------------


def test_sigterm_drains_and_prints_the_summary_like_sigint(site: Odplan) -> None:
    process = subprocess.Popen(
        site.argv("apply", "--auto-approve"),
        env=site.env,
        cwd=site.manifest.parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "service.site.deployment: deploying" in line:
            break
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=60)
    stderr = "".join(seen) + err

    assert process.returncode == 1, stderr
    assert "Interrupt: finishing the actions in flight" in stderr
    assert "Apply interrupted" in stderr
    assert "Traceback" not in stderr
    assert time.monotonic() - started < 30
