"""The retry rules as one pure decision: given what went wrong, retry after N seconds or stop.

No clock, no randomness, no I/O: the request engine feeds in the failure and a jitter draw,
and acts on the answer. Kept apart so that every rule can be unit-tested in isolation.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "WAIT_SCALE_ENV",
    "Failure",
    "RetryDecision",
    "RetryNotice",
    "RetryPolicy",
    "decide_retry",
    "wait_scale",
]

# A test/tuning knob, not a user setting (docs/ci.md): a factor on the waits the client picks
# itself (backoff, the playbook's 5 s before a re-send, the poll pace), so test suites that run
# `odplan` as a child process need not sleep through real-time pauses. The only seam into a
# child process; in-process callers pass a RetryPolicy / PollPolicy instead. Unset: 1.
WAIT_SCALE_ENV = "OPDEPLOY_TEST_WAIT_SCALE"


def wait_scale(env: Mapping[str, str] | None = None) -> float:
    """The factor `WAIT_SCALE_ENV` asks for: a number in (0, 1], else 1 (the product pace)."""
    raw = (os.environ if env is None else env).get(WAIT_SCALE_ENV, "")
    try:
        factor = float(raw)
    except ValueError:
        return 1.0
    return factor if 0 < factor <= 1 else 1.0


def _scaled(seconds: float) -> float:
    return seconds * wait_scale()


@dataclass(frozen=True)
class RetryPolicy:
    """How requests retry. Idempotent ones: at most `max_retries` extra attempts.

    The n-th retry waits `min(max_delay, base_delay * 2**n)`, scaled by a random factor in
    `[1 - jitter, 1 + jitter]`. A 429's `Retry-After` is honoured when it is at most
    `max_retry_after` seconds; a longer wait is surfaced as `RateLimited` instead. A create
    that failed with a 5xx is re-sent once, `server_error_delay` seconds later, by the caller
    after it has looked for what the first attempt may have made (failure-playbook.md).
    """

    max_retries: int = 2
    base_delay: float = field(default_factory=lambda: _scaled(2.5))
    max_delay: float = field(default_factory=lambda: _scaled(30.0))
    jitter: float = 0.5
    max_retry_after: float = 120.0
    # The playbook's rule for a 5xx on a call that is not safe to repeat: wait this long, let
    # the caller read back what the call may have done, and re-send it once at most.
    server_error_delay: float = field(default_factory=lambda: _scaled(5.0))

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
    # True when this very call (same method, path and body) already failed with a 5xx once in
    # this session: the playbook's "if it repeats, stop".
    repeated_server_error: bool = False
    # Nothing listens at the address (ECONNREFUSED): retrying only makes the user wait.
    refused: bool = False


def connection_refused(error: BaseException) -> bool:
    """True when `error`'s chain of causes holds a refused connection."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ConnectionRefusedError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@dataclass(frozen=True)
class RetryDecision:
    """`retry` after `delay` seconds (retry number `retry` of at most `limit`); `raise` the
    error as is; or `outcome_unknown`: a request that may have changed something failed
    ambiguously, so after `delay` seconds the caller must read back before redoing it.
    """

    action: Literal["retry", "raise", "outcome_unknown"]
    delay: float = 0.0
    limit: int = 0


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

    - refused connection: raise at once (nothing listens there; a retry cannot help).
    - transport error: retry when repeating is safe (idempotent, or nothing was sent);
      otherwise the outcome is unknown.
    - 429: retry after `Retry-After` (or the backoff) unless the wait is too long or the call
      opted out (registration: a loop there would burn the IP's quota).
    - 5xx: idempotent requests retry with backoff. Others follow the playbook ("retry once
      after 5 s; if it repeats, stop"): the first 5xx is an unknown outcome after
      `server_error_delay` (the caller reads back, then re-sends); a repeat is raised.
    - anything else: raise.
    """
    limit = policy.max_retries
    can_retry = retry_number < limit
    backoff = policy.delay(retry_number, draw)
    status = failure.status_code
    if status is None:
        if failure.refused:
            return RAISE
        safe = idempotent or not failure.request_sent
        if safe:
            return RetryDecision("retry", backoff, limit) if can_retry else RAISE
        return OUTCOME_UNKNOWN
    if status == 429:
        wait = failure.retry_after
        if retry_rate_limit and can_retry and (wait is None or wait <= policy.max_retry_after):
            return RetryDecision("retry", backoff if wait is None else wait, limit)
        return RAISE
    if status >= 500:
        if idempotent:
            return RetryDecision("retry", backoff, limit) if can_retry else RAISE
        if failure.repeated_server_error:
            return RAISE
        return RetryDecision("outcome_unknown", policy.server_error_delay, 1)
    return RAISE


@dataclass(frozen=True)
class RetryNotice:
    """What the client tells `on_retry` before it waits, so a CLI can say so as it happens.

    `retry` (1-based) of at most `limit`; `reconcile` when the failed call was a create: the
    caller looks for what it may have made before sending it again.
    """

    method: str
    path: str
    reason: str
    delay: float
    retry: int
    limit: int
    reconcile: bool = False

    def __str__(self) -> str:
        where = f"{self.method} {self.path} failed ({self.reason})"
        if self.reconcile:
            return (
                f"{where}; checking in {_seconds(self.delay)} whether it took effect, "
                "then retrying once"
            )
        return f"{where}; retrying {self.retry}/{self.limit} in {_seconds(self.delay)}"


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"
