"""The one poll loop (`poll_until`) the three waits of apply share: deployment, database, domain."""

from __future__ import annotations

import time

import pytest

from opendeploy_plan.apply.polling import PollPolicy, PollTimeout, poll_until

pytestmark = pytest.mark.anyio


class Script:
    """Values returned one per poll; the last one repeats."""

    def __init__(self, *values: object) -> None:
        self.values = list(values)
        self.polls: list[float] = []

    async def fetch(self) -> object:
        self.polls.append(time.monotonic())
        if len(self.values) > 1:
            return self.values.pop(0)
        return self.values[0]


FAST = PollPolicy(first_delay=0.01, max_delay=0.04, factor=2.0, timeout=5.0)


async def test_returns_the_first_value_that_is_done() -> None:
    script = Script("pending", "pending", "running", "ignored")
    assert await poll_until(script.fetch, lambda v: v == "running", policy=FAST) == "running"
    assert len(script.polls) == 3


async def test_on_update_sees_changes_only_and_on_wait_every_sleep() -> None:
    script = Script("a", "a", "b", "b", "done")
    updates: list[object] = []
    waits: list[object] = []
    await poll_until(
        script.fetch,
        lambda v: v == "done",
        policy=FAST,
        on_update=updates.append,
        on_wait=waits.append,
    )
    assert updates == ["a", "b", "done"]
    assert waits == ["a", "a", "b", "b"]


async def test_key_decides_what_counts_as_a_change() -> None:
    script = Script((1, "x"), (1, "y"), (2, "y"))
    updates: list[object] = []
    await poll_until(
        script.fetch, lambda v: v[0] == 2, policy=FAST, key=lambda v: v[0], on_update=updates.append
    )
    assert updates == [(1, "x"), (2, "y")]


async def test_fixed_policy_does_not_back_off() -> None:
    policy = PollPolicy.fixed(0.02, timeout=5.0)
    assert policy.first_delay == policy.max_delay == 0.02
    script = Script(*(["idle"] * 5), "done")
    await poll_until(script.fetch, lambda v: v == "done", policy=policy)
    gaps = [b - a for a, b in zip(script.polls, script.polls[1:], strict=False)]
    assert min(gaps) >= 0.015
    assert max(gaps) < 0.02 + 0.05


async def test_idle_backs_off_and_a_change_snaps_back() -> None:
    policy = PollPolicy(first_delay=0.01, max_delay=0.08, factor=2.0, timeout=5.0)
    script = Script("a", "a", "a", "a", "b", "done")
    await poll_until(script.fetch, lambda v: v == "done", policy=policy)
    gaps = [b - a for a, b in zip(script.polls, script.polls[1:], strict=False)]
    # Requested: 0.01 (first), 0.02, 0.04, 0.08 while idle; then "b" snaps back to 0.01.
    assert gaps[3] > gaps[0]
    assert gaps[4] < gaps[3]


async def test_timeout_carries_the_last_value() -> None:
    script = Script("provisioning")
    with pytest.raises(PollTimeout) as caught:
        await poll_until(script.fetch, lambda v: False, policy=PollPolicy.fixed(0.01, timeout=0.05))
    assert caught.value.last == "provisioning"
    assert caught.value.waited >= 0.05
    assert isinstance(caught.value, TimeoutError)


async def test_an_error_from_fetch_ends_the_wait() -> None:
    async def failing() -> object:
        raise LookupError("gone")

    with pytest.raises(LookupError):
        await poll_until(failing, lambda v: True, policy=FAST)
