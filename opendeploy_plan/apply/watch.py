"""Watch a deployment until it reaches a terminal state.

Polling (`polling.poll_until`) backs off from `first_delay` (2 s) to `max_delay` (5 s) while
nothing changes, and snaps back to 2 s whenever the status or progress moves. A `wake` event
(set by the stream reader when a log stream *ends*, which the gateway does when the deployment
is terminal) cuts the current wait short, so a deployment that finishes is noticed at once
instead of at the next poll. Log lines themselves wake nothing: that would poll at the pace of
the log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from opendeploy_plan.apply.polling import PollPolicy, PollTimeout, poll_until
from opendeploy_plan.platform import TERMINAL_DEPLOYMENT_STATUSES

__all__ = ["DeploymentSnapshot", "PollPolicy", "WatchTimeout", "watch_deployment"]


@dataclass(frozen=True)
class DeploymentSnapshot:
    """What one poll of `GET /v1/deployments/:id` told us."""

    status: str
    progress: int = 0
    message: str = ""

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_DEPLOYMENT_STATUSES


class WatchTimeout(PollTimeout[DeploymentSnapshot]):
    """The deployment did not reach a terminal state in time; it may still be running."""

    def __init__(self, last: DeploymentSnapshot, waited: float) -> None:
        super().__init__(
            last,
            waited,
            f"deployment still {last.status} at {last.progress}% after {waited:.0f}s",
        )


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
    try:
        return await poll_until(
            fetch,
            lambda snapshot: snapshot.terminal,
            policy=policy or PollPolicy(),
            key=lambda snapshot: (snapshot.status, snapshot.progress),
            on_update=on_update,
            wake=wake,
        )
    except PollTimeout as exc:
        raise WatchTimeout(exc.last, exc.waited) from None
