"""How long apply (and redeploy, rollback, cancel) waits for a deployment when nothing says
otherwise (second mutation audit, issue 19; apply/polling.py): 30 minutes, polled every 2 to 5
seconds. Builds on the platform take minutes; giving up earlier would fail an apply whose
deployment is fine. Measured on a virtual clock, so the test takes no time."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from opendeploy_plan.apply import polling
from opendeploy_plan.apply.watch import DeploymentSnapshot, WatchTimeout, watch_deployment
from opendeploy_plan.gateway import WAIT_SCALE_ENV


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_deployment_is_awaited_for_thirty_minutes_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = _Clock()
    monkeypatch.setattr(polling, "time", SimpleNamespace(monotonic=clock.monotonic))
    monkeypatch.setattr(polling, "asyncio", SimpleNamespace(sleep=clock.sleep))
    monkeypatch.delenv(WAIT_SCALE_ENV, raising=False)  # the product pace, whatever a suite set
    seen: list[float] = []

    async def building() -> DeploymentSnapshot:
        seen.append(clock.now)
        return DeploymentSnapshot("building", 40)

    with pytest.raises(WatchTimeout) as timed_out:
        asyncio.run(watch_deployment(building))

    assert timed_out.value.waited == pytest.approx(30 * 60)
    assert "deployment still building at 40% after 1800s" in str(timed_out.value)
    assert all(2.0 <= s <= 5.0 for s in clock.sleeps[:-1])
    assert len(seen) > 300  # polled all along, not once at the end
