"""The one poll loop of apply: ask, stop when done, back off while nothing moves, give up in time.

Three waits share it: a deployment until it is terminal (`watch.watch_deployment`), a database
until it runs (`handlers.dependency.wait_ready`) and a public service's auto domain row until it
appears (`handlers.domain.auto_domain_row`). Each supplies what to fetch, when it is done and
what to say; the timing rules live here once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from opendeploy_plan.errors import OdplanError
from opendeploy_plan.gateway import wait_scale

T = TypeVar("T")

__all__ = ["PollPolicy", "PollTimeout", "poll_until"]


@dataclass(frozen=True)
class PollPolicy:
    """How often to poll: start short, grow by `factor` while idle, never beyond `max_delay`."""

    # The documented loop polls every 5 s and a real gateway rate-limits: never faster than
    # every 2 s. Promptness comes from the streams (a `wake` event), not from polling faster.
    # (Test suites driving a child process shrink both through the gateway's `wait_scale`.)
    first_delay: float = field(default_factory=lambda: 2.0 * wait_scale())
    max_delay: float = field(default_factory=lambda: 5.0 * wait_scale())
    factor: float = 1.5
    timeout: float = 30 * 60.0

    @classmethod
    def fixed(cls, every: float, timeout: float) -> PollPolicy:
        """Poll every `every` seconds, without backing off, for at most `timeout` seconds."""
        return cls(first_delay=every, max_delay=every, factor=1.0, timeout=timeout)

    @classmethod
    def ramp(cls, every: float, timeout: float, *, first: float = 0.1) -> PollPolicy:
        """Poll after `first` seconds, then 1.5x longer each time up to every `every` seconds:
        a resource that is ready at once (a local gateway) is seen within ~0.1 s, one that takes
        minutes (the platform) is polled every `every` seconds after the first second."""
        return cls(first_delay=min(first, every), max_delay=every, factor=1.5, timeout=timeout)


class PollTimeout(OdplanError, TimeoutError, Generic[T]):
    """`done` never held within the policy's timeout; `last` is what the last poll saw."""

    def __init__(self, last: T, waited: float, message: str = "") -> None:
        super().__init__(message or f"still waiting after {waited:.0f}s")
        self.last = last
        self.waited = waited


async def poll_until(
    fetch: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    policy: PollPolicy,
    key: Callable[[T], object] | None = None,
    on_update: Callable[[T], None] | None = None,
    on_wait: Callable[[T], None] | None = None,
    wake: asyncio.Event | None = None,
) -> T:
    """Call `fetch` until `done(value)` and return that value.

    A poll whose `key(value)` differs from the previous poll's (the first poll always does) is
    shown to `on_update` and resets the delay to `first_delay`; otherwise the delay grows by
    `factor` up to `max_delay`. `on_wait` sees the value before each sleep. A `wake` event cuts a
    sleep short. An exception from `fetch` ends the wait (that is how a failed resource stops
    it early). Raises PollTimeout after `policy.timeout` seconds.
    """
    key_of = key or (lambda value: value)
    started = time.monotonic()
    delay = policy.first_delay
    previous: object = _NOTHING
    while True:
        value = await fetch()
        current = key_of(value)
        changed = previous is _NOTHING or current != previous
        if changed and on_update is not None:
            on_update(value)
        if done(value):
            return value
        waited = time.monotonic() - started
        if waited >= policy.timeout:
            raise PollTimeout(value, waited)
        if on_wait is not None:
            on_wait(value)
        delay = policy.first_delay if changed else min(delay * policy.factor, policy.max_delay)
        previous = current
        await _sleep_or_wake(min(delay, policy.timeout - waited), wake)


_NOTHING = object()


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
