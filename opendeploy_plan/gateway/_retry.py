"""The retry rules as one pure decision: given what went wrong, retry after N seconds or stop.

No clock, no randomness, no I/O: the request engine feeds in the failure and a jitter draw,
and acts on the answer. Kept apart so that every rule can be unit-tested in isolation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class RetryPolicy:
    """How idempotent requests retry: at most `max_retries` extra attempts.

    The n-th retry waits `min(max_delay, base_delay * 2**n)`, scaled by a random factor in
    `[1 - jitter, 1 + jitter]`. A 429's `Retry-After` is honoured when it is at most
    `max_retry_after` seconds; a longer wait is surfaced as `RateLimited` instead.
    """

    max_retries: int = 2
    base_delay: float = 2.5
    max_delay: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 120.0

    def delay(self, retry_number: int, draw: float | random.Random = 0.5) -> float:
        """Seconds to wait before the `retry_number`-th retry (0-based).

        `draw` is a uniform random number in [0, 1] (0.5: no jitter), or a generator to draw it.
        """
        if isinstance(draw, random.Random):
            draw = draw.random()
        raw = min(self.max_delay, self.base_delay * (2**retry_number))
        factor = (1 - self.jitter) + 2 * self.jitter * min(1.0, max(0.0, draw))
        return float(max(0.0, raw * factor))


@dataclass(frozen=True)
class Failure:
    """What one attempt ended with: an HTTP status, or a transport error (`status_code` None).

    `request_sent` matters for transport errors only: a connection that never opened cannot
    have changed anything, whatever the method.
    """

    status_code: int | None = None
    request_sent: bool = True
    retry_after: float | None = None


@dataclass(frozen=True)
class RetryDecision:
    """`retry` after `delay` seconds; `raise` the error as is; or `outcome_unknown`: a request
    that may have changed something failed ambiguously, so the caller must read before redoing.
    """

    action: Literal["retry", "raise", "outcome_unknown"]
    delay: float = 0.0


RAISE = RetryDecision("raise")
OUTCOME_UNKNOWN = RetryDecision("outcome_unknown")


def decide_retry(
    policy: RetryPolicy,
    failure: Failure,
    *,
    idempotent: bool,
    retry_number: int,
    retry_rate_limit: bool = True,
    draw: float = 0.5,
) -> RetryDecision:
    """The rule for one failed attempt. `retry_number` counts the retries already made.

    - transport error: retry when repeating is safe (idempotent, or nothing was sent);
      otherwise the outcome is unknown.
    - 429: retry after `Retry-After` (or the backoff) unless the wait is too long or the call
      opted out (registration: a loop there would burn the IP's quota).
    - 5xx: idempotent requests retry with backoff; others have an unknown outcome.
    - anything else: raise.
    """
    can_retry = retry_number < policy.max_retries
    backoff = policy.delay(retry_number, draw)
    status = failure.status_code
    if status is None:
        safe = idempotent or not failure.request_sent
        if safe:
            return RetryDecision("retry", backoff) if can_retry else RAISE
        return OUTCOME_UNKNOWN
    if status == 429:
        wait = failure.retry_after
        if retry_rate_limit and can_retry and (wait is None or wait <= policy.max_retry_after):
            return RetryDecision("retry", backoff if wait is None else wait)
        return RAISE
    if status >= 500:
        if idempotent:
            return RetryDecision("retry", backoff) if can_retry else RAISE
        return OUTCOME_UNKNOWN
    return RAISE
