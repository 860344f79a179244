"""The retry decision's full answer (action, delay and limit), the notice a CLI prints, and the
jitter draw: pinned so that a changed limit or a mis-rounded delay fails a test (issue 19)."""

from __future__ import annotations

import random

import pytest

from opendeploy_plan.gateway import Failure, RetryDecision, RetryPolicy, decide_retry
from opendeploy_plan.gateway._retry import RetryNotice

POLICY = RetryPolicy(max_retries=3, base_delay=1.0, max_delay=30.0, jitter=0.5)


def _decide(failure: Failure, *, idempotent: bool, retry_number: int = 0) -> RetryDecision:
    return decide_retry(POLICY, failure, idempotent=idempotent, retry_number=retry_number)


@pytest.mark.parametrize(
    "failure",
    [Failure(None, request_sent=False), Failure(503), Failure(429)],
    ids=["transport-not-sent", "5xx", "429"],
)
def test_a_retry_carries_the_policy_limit(failure: Failure) -> None:
    decision = _decide(failure, idempotent=True)
    assert decision == RetryDecision("retry", 1.0, 3)


def test_a_rate_limit_waits_its_retry_after_and_carries_the_limit() -> None:
    assert _decide(Failure(429, retry_after=7.0), idempotent=False) == RetryDecision(
        "retry", 7.0, 3
    )


def test_a_retry_after_exactly_at_the_bound_is_still_honoured() -> None:
    at_bound = Failure(429, retry_after=POLICY.max_retry_after)
    assert _decide(at_bound, idempotent=True).action == "retry"
    beyond = Failure(429, retry_after=POLICY.max_retry_after + 0.5)
    assert _decide(beyond, idempotent=True).action == "raise"


def test_the_playbook_5xx_rule_allows_exactly_one_resend() -> None:
    decision = _decide(Failure(500), idempotent=False)
    assert decision == RetryDecision("outcome_unknown", 5.0, 1)


def test_a_transport_error_after_sending_a_create_is_an_unknown_outcome() -> None:
    assert _decide(Failure(None, request_sent=True), idempotent=False).action == "outcome_unknown"


def test_the_delay_draws_from_a_generator_and_clamps_the_draw() -> None:
    policy = RetryPolicy(base_delay=2.0, max_delay=30.0, jitter=0.5)
    assert policy.delay(0) == 2.0  # the default draw is the middle: no jitter
    assert policy.delay(0, 1.0) == 3.0
    assert policy.delay(0, 5.0) == 3.0  # a draw above 1 is clamped
    assert policy.delay(0, -3.0) == 1.0  # and below 0
    seeded = random.Random(7)
    expected_draw = random.Random(7).random()
    assert policy.delay(1, seeded) == pytest.approx(4.0 * (0.5 + expected_draw))


def test_a_notice_says_which_retry_of_how_many_and_when() -> None:
    notice = RetryNotice("GET", "/v1/projects", "503", delay=1.5, retry=2, limit=4)
    assert str(notice) == "GET /v1/projects failed (503); retrying 2/4 in 1.5 s"
    slow = RetryNotice("GET", "/v1/projects", "429", delay=12.4, retry=1, limit=2)
    assert str(slow).endswith("retrying 1/2 in 12 s")
    edge = RetryNotice("GET", "/x", "503", delay=10.0, retry=1, limit=2)
    assert str(edge).endswith("in 10 s")
    below = RetryNotice("GET", "/x", "503", delay=9.96, retry=1, limit=2)
    assert str(below).endswith("in 10.0 s")


def test_a_create_notice_says_it_checks_before_sending_again() -> None:
    notice = RetryNotice(
        "POST", "/v1/projects/", "500", delay=5.0, retry=1, limit=1, reconcile=True
    )
    assert str(notice) == (
        "POST /v1/projects/ failed (500); checking in 5.0 s whether it took effect, "
        "then retrying once"
    )
