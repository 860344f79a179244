"""Deployment watching: terminal detection, backoff, wake-ups, timeouts."""

from __future__ import annotations

import asyncio
import time

import pytest

from opendeploy_plan.apply.watch import (
    DeploymentSnapshot,
    PollPolicy,
    WatchTimeout,
    watch_deployment,
)

pytestmark = pytest.mark.anyio


class ScriptedDeployment:
    """A sequence of snapshots, one per poll; the last one repeats."""

    def __init__(self, *snapshots: DeploymentSnapshot) -> None:
        self.snapshots = list(snapshots)
        self.polls: list[float] = []

    async def fetch(self) -> DeploymentSnapshot:
        self.polls.append(time.monotonic())
        if len(self.snapshots) > 1:
            return self.snapshots.pop(0)
        return self.snapshots[0]


FAST = PollPolicy(first_delay=0.01, max_delay=0.04, factor=2.0, timeout=5.0)


async def test_returns_the_terminal_snapshot_and_reports_changes() -> None:
    deployment = ScriptedDeployment(
        DeploymentSnapshot("pending", 0),
        DeploymentSnapshot("building", 30),
        DeploymentSnapshot("building", 30),
        DeploymentSnapshot("deploying", 80),
        DeploymentSnapshot("success", 100),
    )
    seen: list[tuple[str, int]] = []
    final = await watch_deployment(
        deployment.fetch, policy=FAST, on_update=lambda s: seen.append((s.status, s.progress))
    )
    assert final == DeploymentSnapshot("success", 100)
    assert seen == [("pending", 0), ("building", 30), ("deploying", 80), ("success", 100)]


async def test_a_progress_move_within_one_status_is_a_change() -> None:
    deployment = ScriptedDeployment(
        DeploymentSnapshot("building", 10),
        DeploymentSnapshot("building", 10),
        DeploymentSnapshot("building", 40),
        DeploymentSnapshot("building", 80),
        DeploymentSnapshot("success", 100),
    )
    seen: list[tuple[str, int]] = []
    await watch_deployment(
        deployment.fetch, policy=FAST, on_update=lambda s: seen.append((s.status, s.progress))
    )
    assert seen == [("building", 10), ("building", 40), ("building", 80), ("success", 100)]


@pytest.mark.parametrize("status", ["failed", "cancelled", "rolled_back"])
async def test_every_terminal_status_ends_the_watch(status: str) -> None:
    deployment = ScriptedDeployment(DeploymentSnapshot("building", 10), DeploymentSnapshot(status))
    assert (await watch_deployment(deployment.fetch, policy=FAST)).status == status


async def test_idle_polls_back_off_up_to_the_cap() -> None:
    # Delays wide apart (0.05, 0.1, 0.2, 0.2, ...) so that scheduling slack on a loaded machine
    # cannot reorder them; a missing cap would grow the last gaps to 1.6 s and more.
    policy = PollPolicy(first_delay=0.05, max_delay=0.2, factor=2.0, timeout=10.0)
    idle = [DeploymentSnapshot("building", 50)] * 7
    deployment = ScriptedDeployment(*idle, DeploymentSnapshot("success", 100))
    await watch_deployment(deployment.fetch, policy=policy)
    gaps = [b - a for a, b in zip(deployment.polls, deployment.polls[1:], strict=False)]
    assert gaps[0] >= 0.05
    assert gaps[0] < gaps[2]
    assert min(gaps[2:]) >= 0.2
    assert max(gaps) < 0.2 + 1.0


async def test_wake_cuts_the_wait_short() -> None:
    wake = asyncio.Event()
    slow = PollPolicy(first_delay=10.0, max_delay=10.0, timeout=60.0)
    deployment = ScriptedDeployment(
        DeploymentSnapshot("building", 50), DeploymentSnapshot("success")
    )

    async def stream_event_soon() -> None:
        await asyncio.sleep(0.05)
        wake.set()

    waker = asyncio.create_task(stream_event_soon())
    started = time.monotonic()
    final = await watch_deployment(deployment.fetch, policy=slow, wake=wake)
    await waker
    assert final.status == "success"
    assert time.monotonic() - started < 2.0


async def test_timeout_reports_the_last_state() -> None:
    deployment = ScriptedDeployment(DeploymentSnapshot("building", 40))
    policy = PollPolicy(first_delay=0.01, max_delay=0.01, timeout=0.05)
    with pytest.raises(WatchTimeout) as caught:
        await watch_deployment(deployment.fetch, policy=policy)
    assert caught.value.last.status == "building"
    assert "still building at 40%" in str(caught.value)
