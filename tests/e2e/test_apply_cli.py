"""The `odplan apply` command line: it never changes anything without consent (no terminal and
no `--auto-approve` is a refusal), `--json` prints one parsable report with the live URL, and
Ctrl-C lets the actions in flight finish, then stops cleanly so the next apply completes."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.apply_support import (
    Odplan,
    RealGateway,
    assert_no_canary,
    describe,
    real_gateway,
    write_shop,
)


@pytest.fixture
def gateway() -> Iterator[RealGateway]:
    with real_gateway() as running:
        yield running


@pytest.fixture
def odplan(gateway: RealGateway, tmp_path: Path) -> Odplan:
    home = tmp_path / "home"
    home.mkdir()
    return Odplan(gateway, home, write_shop(tmp_path / "app"))


def test_without_auto_approve_and_without_a_terminal_apply_refuses(odplan: Odplan) -> None:
    refused = odplan.run("apply")

    assert refused.returncode == 1, describe(refused)
    assert "refusing to apply without confirmation" in refused.stderr
    assert "--auto-approve" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert odplan.census("shop").projects == 0


def test_a_yes_piped_into_stdin_is_not_consent(odplan: Odplan) -> None:
    # A pipe is not a terminal: scripts must say --auto-approve (or apply a saved plan).
    refused = odplan.run("apply", stdin="yes\n")

    assert refused.returncode == 1, describe(refused)
    assert odplan.census("shop").projects == 0


def test_a_plan_with_errors_is_shown_once_and_nothing_is_changed(odplan: Odplan) -> None:
    assert odplan.apply().returncode == 0
    before = odplan.census("shop")

    refused = odplan.apply("--replace", "dependency.db")  # needs --allow-data-loss

    assert refused.returncode == 1, describe(refused)
    shown = refused.stdout + refused.stderr
    assert shown.count("would destroy its data") == 1, shown
    assert "Nothing was applied: the plan has errors." in refused.stderr
    assert odplan.census("shop") == before


def test_json_output_is_one_document_with_the_report_and_the_live_url(odplan: Odplan) -> None:
    applied = odplan.apply("--json")

    assert applied.returncode == 0, describe(applied)
    document = json.loads(applied.stdout)
    assert document["status"] == "success"
    assert document["project"]["name"] == "shop" and document["project"]["id"]
    services = {s["name"]: s for s in document["services"]}
    assert services["api"]["url"] == "https://shop-api.opendeploy.run"
    assert services["admin"]["url"].startswith("https://")
    assert {s["status"] for s in services.values()} == {"success"}
    assert {a["outcome"] for a in document["actions"]} == {"succeeded"}
    assert "service.worker.deployment" in {a["address"] for a in document["actions"]}
    assert_no_canary([applied.stdout, applied.stderr], home=odplan.home)


def _interrupt_when(odplan: Odplan, marker: str, signals: int) -> tuple[int, str]:
    """Start an apply, send SIGINT `signals` times once a progress line contains `marker`;
    return its exit code and stderr."""
    process = subprocess.Popen(
        odplan.argv("apply", "--auto-approve"),
        env=odplan.env,
        cwd=odplan.manifest.parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if marker in line:
            break
    for _ in range(signals):
        process.send_signal(signal.SIGINT)
        time.sleep(0.1)
    _out, err = process.communicate(timeout=60)
    return process.returncode, "".join(seen) + err


def test_ctrl_c_drains_the_running_actions_and_the_next_apply_finishes(odplan: Odplan) -> None:
    # Interrupt once the first deployment is running: other actions are still to start.
    started = time.monotonic()
    code, stderr = _interrupt_when(odplan, "deployment: deploying", 1)

    assert code == 1, stderr
    assert "Interrupt: finishing the actions in flight" in stderr
    assert "Apply interrupted" in stderr
    assert "Not started (interrupted):" in stderr
    assert "Traceback" not in stderr
    assert time.monotonic() - started < 30
    again = odplan.apply()
    assert again.returncode == 0, describe(again)
    assert odplan.plan("--detailed-exitcode").returncode == 0
    assert odplan.census("shop").duplicates() == []


def test_a_second_ctrl_c_aborts_and_the_next_apply_adopts_what_was_started(
    tmp_path: Path,
) -> None:
    # Deployments stay `pending` for 2 s, so the interrupt surely lands while one is in flight
    # (at 0.05 s a loaded machine's first poll could miss the state and the apply finish).
    with real_gateway(pending_seconds=2.0) as gateway:
        home = tmp_path / "home"
        home.mkdir()
        _second_ctrl_c(Odplan(gateway, home, write_shop(tmp_path / "app")))


def _second_ctrl_c(odplan: Odplan) -> None:
    code, stderr = _interrupt_when(odplan, "deployment: pending", 2)

    assert code == 1, stderr
    assert "Apply interrupted" in stderr
    assert "aborted by a second interrupt" in stderr
    assert "Traceback" not in stderr
    again = odplan.apply()
    assert again.returncode == 0, describe(again)
    assert odplan.plan("--detailed-exitcode").returncode == 0
    census = odplan.census("shop")
    assert census.duplicates() == []
    assert [census.successful(s) for s in ("admin", "api", "worker")] == [1, 1, 1]
