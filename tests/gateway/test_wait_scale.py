"""The product's own waits are pinned (the playbook's 5 s before re-sending a failed create, the
documented 2-5 s poll pace, the 2.5 s backoff), and the test-only knob that shrinks them for
suites driving `odplan` as a child process only ever shortens them."""

from __future__ import annotations

import pytest

from opendeploy_plan.apply import PollPolicy
from opendeploy_plan.gateway import WAIT_SCALE_ENV, RetryPolicy, wait_scale


def test_without_the_knob_the_product_pace_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WAIT_SCALE_ENV, raising=False)
    retry = RetryPolicy()
    assert retry.server_error_delay == 5.0  # failure-playbook.md: "retry once after 5 s"
    assert (retry.base_delay, retry.max_delay) == (2.5, 30.0)
    poll = PollPolicy()
    assert (poll.first_delay, poll.max_delay) == (2.0, 5.0)  # never faster than every 2 s
    assert poll.timeout == 30 * 60.0


def test_the_knob_scales_every_wait_the_client_picks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WAIT_SCALE_ENV, "0.1")
    retry = RetryPolicy()
    assert retry.server_error_delay == pytest.approx(0.5)
    assert (retry.base_delay, retry.max_delay) == pytest.approx((0.25, 3.0))
    assert retry.max_retry_after == 120.0  # a gateway's Retry-After is its word, not ours
    poll = PollPolicy()
    assert (poll.first_delay, poll.max_delay) == pytest.approx((0.2, 0.5))
    assert poll.timeout == 30 * 60.0  # the deadline is not a wait


@pytest.mark.parametrize("raw", ["", "fast", "0", "-1", "2", "nan", "inf"])
def test_anything_but_a_factor_in_0_1_leaves_the_product_pace(raw: str) -> None:
    assert wait_scale({WAIT_SCALE_ENV: raw}) == 1.0


def test_explicit_policies_ignore_the_knob(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WAIT_SCALE_ENV, "0.1")
    assert RetryPolicy(server_error_delay=5.0).server_error_delay == 5.0
    assert PollPolicy.fixed(3.0, 60.0).first_delay == 3.0
