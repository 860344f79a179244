"""Crash safety: `odplan apply` killed with SIGKILL at a random moment (anywhere from start-up to
the last read-back), then run again normally, finishes the job: the next apply exits 0, the plan
is empty, and nothing exists twice (the killed run's creates are found by name, its deployment
by its run id or waited for, never started again for the same change).

The kill moments are drawn, with a fixed seed, from the measured duration of a clean apply of
the same app, counted from the moment apply starts its first action (the interpreter's start-up
and the plan before it change nothing, and on a loaded machine they would swallow most draws),
so the trials spread over every phase of the changes. The trials run against both
emulator profiles, the default one and the documented one (issue 14)."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.apply_support import (
    PROFILES,
    Odplan,
    describe,
    real_gateway,
    write_shop,
)

TRIALS = 20
SEED = 20261129
SERVICES = ("admin", "api", "worker")
# Deployments a little longer than the other e2e tests', so more kills land mid-deployment.
PHASES = {"pending_seconds": 0.1, "build_seconds": 0.4, "deploy_seconds": 0.2}


def _fresh(tmp_path: Path, name: str) -> tuple[Path, Path]:
    home = tmp_path / name / "home"
    home.mkdir(parents=True)
    return home, write_shop(tmp_path / name / "app")


@pytest.mark.slow
@pytest.mark.timeout(900)  # 20 trials of 3 child processes each; a loaded CI box is slow
@pytest.mark.parametrize("profile", PROFILES)
def test_kill_9_at_random_moments_then_apply_again_converges_without_duplicates(
    profile: str, tmp_path: Path
) -> None:
    home, manifest = _fresh(tmp_path, "clean")
    with real_gateway(profile=profile, **PHASES) as gateway:
        clean = _start_apply(Odplan(gateway, home, manifest))
        started = time.monotonic()
        _out, err = clean.communicate(timeout=300)
        duration = time.monotonic() - started
        assert clean.returncode == 0, err

    rng = random.Random(SEED)
    killed_before_exit = 0
    partial = 0  # trials whose kill left a half-built project behind
    for trial in range(TRIALS):
        # Within the first 80% of a clean run: a trial's apply can be quicker than the one
        # measured (warm caches), and a kill after its exit proves nothing.
        delay = rng.uniform(0.0, duration * 0.8)
        home, manifest = _fresh(tmp_path, f"trial-{trial}")
        with real_gateway(profile=profile, seed=trial, **PHASES) as gateway:
            odplan = Odplan(gateway, home, manifest)
            victim = _start_apply(odplan)
            time.sleep(delay)
            victim.send_signal(signal.SIGKILL)
            code = victim.wait(timeout=30)
            assert victim.stderr is not None
            victim.stderr.close()
            killed_before_exit += code == -signal.SIGKILL
            left = odplan.census("shop")
            partial += left.projects == 1 and sum(map(left.successful, SERVICES)) < 3

            again = odplan.apply()

            where = f"trial {trial}, killed after {delay:.2f} s (exit {code})"
            assert again.returncode == 0, f"{where}\n{describe(again)}"
            planned = odplan.plan("--detailed-exitcode")
            assert planned.returncode == 0, f"{where}\n{describe(planned)}"
            census = odplan.census("shop")
            assert census.duplicates() == [], f"{where}\n{census}"
            assert census.projects == 1
            for service in SERVICES:
                assert census.successful(service) == 1, f"{where}\n{census}"
    # Most kills must land while apply is still running, and many must leave a half-built
    # project behind (the rest land during start-up and planning), or this proves little.
    spread = f"{killed_before_exit} killed mid-run, {partial} left a half-built project"
    assert killed_before_exit >= TRIALS * 3 // 4, spread
    assert partial >= TRIALS // 3, spread


def _start_apply(odplan: Odplan) -> subprocess.Popen[str]:
    """`odplan apply --auto-approve` as a child, returned once it reports its first action (or
    has exited): what comes before only reads."""
    process = subprocess.Popen(
        odplan.argv("apply", "--auto-approve"),
        env=odplan.env,
        cwd=odplan.manifest.parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    process.stderr.readline()  # the first progress line ('' if it exited first)
    return process
