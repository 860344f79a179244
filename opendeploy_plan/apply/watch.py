"""Watch a deployment until it reaches a terminal state.

Polling backs off from `first_delay` to `max_delay` while nothing changes, and snaps back to the
short delay whenever the status or progress moves. A `wake` event (set by a log-stream reader
for every event it receives) cuts the current wait short, so a deployment that finishes is
noticed at once instead of at the next poll.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from opendeploy_plan.platform import TERMINAL_DEPLOYMENT_STATUSES


@dataclass(frozen=True)
class DeploymentSnapshot:
    """What one poll of `GET /v1/deployments/:id` told us."""

    status: str
    progress: int = 0
    message: str = ""

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_DEPLOYMENT_STATUSES


class WatchTimeout(TimeoutError):
    """The deployment did not reach a terminal state in time; it may still be running."""

    def __init__(self, last: DeploymentSnapshot, waited: float) -> None:
        super().__init__(f"deployment still {last.status} at {last.progress}% after {waited:.0f}s")
        self.last = last
        self.waited = waited


@dataclass(frozen=True)
class PollPolicy:
    """How often to poll: start short, grow by `factor` while idle, never beyond `max_delay`."""

    first_delay: float = 0.5
    max_delay: float = 5.0
    factor: float = 1.5
    timeout: float = 30 * 60.0


async def watch_deployment(
    fetch: Callable[[], Awaitable[DeploymentSnapshot]],
    *,
    policy: PollPolicy | None = None,
    on_update: Callable[[DeploymentSnapshot], None] | None = None,
    wake: asyncio.Event | None = None,
) -> DeploymentSnapshot:
    """Poll `fetch` until the snapshot is terminal and return it.

    `on_update` sees every snapshot whose status or progress differs from the previous one.
    Raises WatchTimeout after `policy.timeout` seconds without a terminal state.
    """
    policy = policy or PollPolicy()
    started = time.monotonic()
    delay = policy.first_delay
    previous: DeploymentSnapshot | None = None
    while True:
        snapshot = await fetch()
        changed = previous is None or (snapshot.status, snapshot.progress) != (
            previous.status,
            previous.progress,
        )
        if changed and on_update is not None:
            on_update(snapshot)
        if snapshot.terminal:
            return snapshot
        waited = time.monotonic() - started
        if waited >= policy.timeout:
            raise WatchTimeout(snapshot, waited)
        delay = policy.first_delay if changed else min(delay * policy.factor, policy.max_delay)
        previous = snapshot
        await _sleep_or_wake(min(delay, policy.timeout - waited), wake)


async def _sleep_or_wake(seconds: float, wake: asyncio.Event | None) -> None:
    if wake is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(wake.wait(), timeout=seconds)
    except TimeoutError:
        return
    finally:
        wake.clear()
