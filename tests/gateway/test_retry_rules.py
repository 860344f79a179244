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
) -> tuple[str, float]:
    decision: RetryDecision = decide_retry(
        POLICY,
        failure,
        idempotent=idempotent,
        retry_number=retry_number,
        **kw,  # type: ignore[arg-type]
    )
    return decision.action, decision.delay


def test_idempotent_5xx_retries_with_exponential_backoff_then_stops() -> None:
    assert decide(Failure(503), idempotent=True, retry_number=0) == ("retry", 1.0)
    assert decide(Failure(500), idempotent=True, retry_number=1) == ("retry", 2.0)
    assert decide(Failure(502), idempotent=True, retry_number=2) == ("raise", 0.0)


def test_a_create_that_failed_with_5xx_is_retried_once_after_5_s_then_stops() -> None:
    """failure-playbook.md, any 5xx: "Retry once after 5s. If it repeats, stop"; the caller
    reads back in between (an unknown outcome), so a create is never made twice."""
    assert decide(Failure(500), idempotent=False) == ("outcome_unknown", 5.0)
    repeated = Failure(503, repeated_server_error=True)
    assert decide(repeated, idempotent=False) == ("raise", 0.0)
    quick = RetryPolicy(server_error_delay=0.01)
    assert decide_retry(quick, Failure(502), idempotent=False, retry_number=0).delay == 0.01


def test_transport_errors_retry_only_when_repeating_is_safe() -> None:
    assert decide(TRANSPORT_SENT, idempotent=True) == ("retry", 1.0)
    assert decide(TRANSPORT_NOT_SENT, idempotent=False) == ("retry", 1.0)
    assert decide(TRANSPORT_SENT, idempotent=False)[0] == "outcome_unknown"
    assert decide(TRANSPORT_NOT_SENT, idempotent=False, retry_number=2)[0] == "raise"


def test_rate_limit_honours_retry_after_within_bounds() -> None:
    assert decide(Failure(429, retry_after=7), idempotent=False) == ("retry", 7)
    assert decide(Failure(429), idempotent=True) == ("retry", 1.0)
    too_long = Failure(429, retry_after=POLICY.max_retry_after + 1)
    assert decide(too_long, idempotent=True)[0] == "raise"
    assert decide(Failure(429, retry_after=1), idempotent=True, retry_number=2)[0] == "raise"


def test_registration_never_retries_a_rate_limit() -> None:
    decision = decide(Failure(429, retry_after=1), idempotent=False, retry_rate_limit=False)
    assert decision[0] == "raise"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_raised_at_once(status: int) -> None:
    assert decide(Failure(status), idempotent=True)[0] == "raise"


def test_jitter_scales_the_backoff_within_its_band() -> None:
    low = decide(Failure(503), idempotent=True, draw=0.0)
    high = decide(Failure(503), idempotent=True, draw=1.0)
    assert (low[1], high[1]) == (0.5, 1.5)
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
