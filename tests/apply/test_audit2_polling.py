"""The poll loop and the auto-domain wait, the cases an independent mutation audit (issue 19)
found unguarded: a wake-up cuts one wait short, not every later one; and the auto domain row is
awaited for the documented 30 s (domain.md), so one that appears after 12 s is still renamed.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from opendeploy_plan.apply.polling import PollPolicy, poll_until
from tests.apply.rig import rig
from tests.apply.test_handler_promises import applied, manifest


@pytest.mark.anyio
async def test_a_wake_up_cuts_one_wait_short_not_every_later_one() -> None:
    wake = asyncio.Event()
    wake.set()  # a stream ended once
    polls: list[float] = []

    async def fetch() -> int:
        polls.append(time.monotonic())
        return len(polls)

    await poll_until(fetch, lambda n: n >= 4, policy=PollPolicy.fixed(0.3, 30.0), wake=wake)
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert gaps[0] < 0.25, gaps  # the wake-up
    assert min(gaps[1:]) >= 0.25, gaps  # then the policy's pace again
    assert not wake.is_set()


def test_an_auto_domain_row_that_appears_after_12_s_is_still_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, manifest(), auto_domain_delay_seconds=12.0) as r:
        out = applied(r)
        assert "waiting for the auto domain" in out
        assert r.live().domains == {"web": ["tiny-web.opendeploy.run"]}
