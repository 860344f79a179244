"""Issue 16 items 3, 4 and 10 on a terminal: `odplan` in a pseudo-terminal (pexpect) over real
HTTP against a local gateway on 127.0.0.1.

On a terminal, apply shows one line per action updated in place (cursor moves, not new lines),
with elapsed times and the build log's last lines under the service being built; "Refreshing
state…" while reading; the final report is the plain aligned summary, not Markdown. The
confirmation answered with `y` cancels without an "error:"; the credential prompt says what a
guest credential is before it asks.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from tests.e2e.apply_support import Odplan, RealGateway, real_gateway
from tests.e2e.test_ux_cli import write_site

pytestmark = pytest.mark.timeout(300)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def gateway() -> Iterator[RealGateway]:
    # Builds long enough (~2.5 s) for the live display to show the build log while it runs.
    with real_gateway(build_seconds=2.5) as running:
        yield running


@pytest.fixture
def site(gateway: RealGateway, tmp_path: Path) -> Odplan:
    home = tmp_path / "home"
    home.mkdir()
    return Odplan(gateway, home, write_site(tmp_path / "app"))


def spawn(odplan: Odplan, *args: str, env: dict[str, str] | None = None) -> pexpect.spawn:
    """`odplan ARGS` on a pseudo-terminal (colours on: no NO_COLOR, no CI)."""
    environment = dict(env if env is not None else odplan.env)
    for name in ("NO_COLOR", "CI"):
        environment.pop(name, None)
    environment["TERM"] = "xterm"
    return pexpect.spawn(
        sys.executable,
        ["-m", "opendeploy_plan", *args],
        cwd=str(odplan.manifest.parent),
        env=environment,
        encoding="utf-8",
        timeout=120,
        dimensions=(40, 160),
    )


def finish(child: pexpect.spawn) -> tuple[int, str]:
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus if child.exitstatus is not None else -1), child.before or ""


def test_apply_on_a_terminal_updates_lines_in_place_and_prints_the_plain_summary(
    site: Odplan,
) -> None:
    child = spawn(site, "apply", "--gateway", site.gateway.base_url)
    child.expect_exact("Refreshing state…")
    child.expect_exact("Enter a value:")
    child.sendline("yes")
    code, output = finish(child)

    assert code == 0, output
    assert "\x1b[1A" in output  # the cursor moves up: lines are rewritten, not appended
    text = ANSI.sub("", output)
    assert re.search(r"✓ service\.site\.deployment\s+done\s+\d+\.\d+s", text), text
    assert re.search(r"service\.site\.deployment\s+deploying\s+\S.*\d+\.\d+s", text), text
    assert "│ " in text  # the build log's last lines under the service being built
    assert "building 1%" not in text and "[   0.0s]" not in text  # not the plain form
    summary = text.split("✓ Deployment successful", 1)[1]
    assert "Live URL     https://hello-ux." in summary
    assert "**" not in summary and "##" not in summary


def test_plan_on_a_terminal_says_refreshing_state(site: Odplan) -> None:
    child = spawn(site, "plan", "--gateway", site.gateway.base_url)
    child.expect_exact("Refreshing state…")
    code, output = finish(child)

    assert code == 0, output
    assert "Plan:" in ANSI.sub("", output)


def test_with_no_color_on_a_terminal_progress_is_plain(site: Odplan) -> None:
    env = {**site.env, "TERM": "xterm"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "opendeploy_plan", "apply", "--auto-approve", "--gateway", site.gateway.base_url],
        cwd=str(site.manifest.parent),
        env={**env, "NO_COLOR": "1"},
        encoding="utf-8",
        timeout=120,
    )
    code, output = finish(child)

    assert code == 0, output
    assert "\x1b[" not in output
    assert re.search(r"\[\s*\d+\.\ds\] service\.site\.deployment: deploying…", output), output


def test_answering_y_cancels_without_calling_it_an_error(site: Odplan) -> None:
    child = spawn(site, "apply", "--gateway", site.gateway.base_url)
    child.expect_exact("Enter a value:")
    child.sendline("y")
    code, output = finish(child)

    assert code == 1
    text = ANSI.sub("", output)
    assert "Apply cancelled (you typed 'y'; only 'yes' applies). Nothing was changed." in text
    assert "error:" not in text
    assert site.census("hello").projects == 0


def test_the_credential_prompt_says_what_a_guest_credential_is_before_asking(
    site: Odplan,
) -> None:
    env = {k: v for k, v in site.env.items() if k != "OD_API_KEY"}
    child = spawn(site, "apply", "--gateway", site.gateway.base_url, env=env)
    child.expect_exact("Create one now?")
    before = ANSI.sub("", child.before or "")
    child.sendline("n")
    code, _output = finish(child)

    assert "guest credential" in before
    assert "6 hours" in before and "collected" in before
    assert "one project" in before and "replica" in before
    assert str(site.home / "auth.json") in re.sub(r"\s+", "", before)
    assert code == 1
    assert not (site.home / "auth.json").exists()


def test_ctrl_c_on_a_terminal_says_so_above_the_live_lines_and_prints_the_summary(
    site: Odplan,
) -> None:
    child = spawn(site, "apply", "--auto-approve", "--gateway", site.gateway.base_url)
    child.expect("service\\.site\\.deployment\x1b\\[0m  deploying")
    child.sendintr()
    code, output = finish(child)

    text = ANSI.sub("", output)
    assert code == 1, text
    assert "Interrupt: finishing the actions in flight" in text
    assert "Apply interrupted" in text
    assert "Traceback" not in text
    assert "\x1b[?25h" in output  # the cursor is shown again
