"""`PollPolicy.ramp`, the database wait's pace: the first poll after 0.1 s (a local gateway's
database is running at once), then 1.5x longer each time up to the steady interval, and back
to 0.1 s when the status moves (so a real platform is never polled faster than before for
long)."""

from __future__ import annotations

import asyncio

import pytest

from opendeploy_plan.apply import polling
from opendeploy_plan.apply.polling import PollPolicy, poll_until

pytestmark = pytest.mark.anyio


def test_ramp_starts_short_and_settles_on_the_interval() -> None:
    policy = PollPolicy.ramp(0.5, 60.0)
    assert (policy.first_delay, policy.max_delay, policy.factor, policy.timeout) == (
        0.1,
        0.5,
        1.5,
        60.0,
    )
    assert PollPolicy.ramp(0.05, 60.0).first_delay == 0.05  # never slower than the interval


async def test_the_waits_between_polls_grow_then_reset_on_a_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []

    async def record(seconds: float, wake: asyncio.Event | None) -> None:
        slept.append(round(seconds, 4))

    monkeypatch.setattr(polling, "_sleep_or_wake", record)
    statuses = iter(["pending"] * 6 + ["provisioning"] * 2 + ["running"])

    async def fetch() -> str:
        return next(statuses)

    got = await poll_until(fetch, lambda s: s == "running", policy=PollPolicy.ramp(0.5, 60.0))
    assert got == "running"
    assert slept == [0.1, 0.15, 0.225, 0.3375, 0.5, 0.5, 0.1, 0.15]
