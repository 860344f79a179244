"""The retry rules as a pure function: every branch, no clock, no network."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from opendeploy_plan import gateway
from opendeploy_plan.gateway import Failure, RetryDecision, RetryPolicy, decide_retry

POLICY = RetryPolicy(max_retries=2, base_delay=1.0, max_delay=30.0, jitter=0.5)
TRANSPORT_SENT = Failure(None, request_sent=True)
TRANSPORT_NOT_SENT = Failure(None, request_sent=False)


def decide(
    failure: Failure, *, idempotent: bool, retry_number: int = 0, **kw: object
) -> RetryDecision:
    return decide_retry(POLICY, failure, idempotent=idempotent, retry_number=retry_number, **kw)  # type: ignore[arg-type]


def test_idempotent_5xx_retries_with_exponential_backoff_then_stops() -> None:
    assert decide(Failure(503), idempotent=True, retry_number=0) == RetryDecision("retry", 1.0)
    assert decide(Failure(500), idempotent=True, retry_number=1) == RetryDecision("retry", 2.0)
    assert decide(Failure(502), idempotent=True, retry_number=2) == RetryDecision("raise")


def test_a_create_that_failed_with_5xx_has_an_unknown_outcome() -> None:
    assert decide(Failure(500), idempotent=False).action == "outcome_unknown"


def test_transport_errors_retry_only_when_repeating_is_safe() -> None:
    assert decide(TRANSPORT_SENT, idempotent=True) == RetryDecision("retry", 1.0)
    assert decide(TRANSPORT_NOT_SENT, idempotent=False) == RetryDecision("retry", 1.0)
    assert decide(TRANSPORT_SENT, idempotent=False).action == "outcome_unknown"
    assert decide(TRANSPORT_NOT_SENT, idempotent=False, retry_number=2).action == "raise"


def test_rate_limit_honours_retry_after_within_bounds() -> None:
    assert decide(Failure(429, retry_after=7), idempotent=False) == RetryDecision("retry", 7)
    assert decide(Failure(429), idempotent=True) == RetryDecision("retry", 1.0)
    too_long = Failure(429, retry_after=POLICY.max_retry_after + 1)
    assert decide(too_long, idempotent=True).action == "raise"
    assert decide(Failure(429, retry_after=1), idempotent=True, retry_number=2).action == "raise"


def test_registration_never_retries_a_rate_limit() -> None:
    decision = decide(Failure(429, retry_after=1), idempotent=False, retry_rate_limit=False)
    assert decision.action == "raise"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_raised_at_once(status: int) -> None:
    assert decide(Failure(status), idempotent=True).action == "raise"


def test_jitter_scales_the_backoff_within_its_band() -> None:
    low = decide(Failure(503), idempotent=True, draw=0.0)
    high = decide(Failure(503), idempotent=True, draw=1.0)
    assert (low.delay, high.delay) == (0.5, 1.5)
    capped = RetryPolicy(max_retries=10, base_delay=1.0, max_delay=4.0, jitter=0.0)
    assert decide_retry(capped, Failure(503), idempotent=True, retry_number=6).delay == 4.0


def test_the_gateway_package_never_imports_the_emulator() -> None:
    package = Path(gateway.__file__).parent
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any("emulator" in name for name in names), (module.name, names)
