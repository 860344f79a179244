"""The retry room's small rules, pinned where the mutation room runs: a refused connection is
found anywhere in an error's chain of causes (it decides the "is the gateway running?" hint),
and the test-only wait knob reads the mapping it is given."""

from __future__ import annotations

import httpx
import pytest

from opendeploy_plan.gateway import WAIT_SCALE_ENV, wait_scale
from opendeploy_plan.gateway._retry import connection_refused


def _raised_from(inner: BaseException, outer: BaseException, *, implicit: bool) -> BaseException:
    """`outer` raised while handling `inner`: as its `__context__` (implicit) or `__cause__`."""
    try:
        try:
            raise inner
        except BaseException as caught:
            if implicit:
                raise outer  # noqa: B904 - the implicit context is what this builds
            raise outer from caught
    except BaseException as raised:
        return raised
    raise AssertionError("unreachable")


def test_a_refused_connection_is_itself_refused() -> None:
    assert connection_refused(ConnectionRefusedError(111, "Connection refused"))


@pytest.mark.parametrize("implicit", [False, True], ids=["cause", "context"])
def test_a_refusal_two_levels_down_the_chain_is_found(implicit: bool) -> None:
    middle = _raised_from(
        ConnectionRefusedError(111, "refused"), OSError("connect failed"), implicit=implicit
    )
    outer = _raised_from(
        middle, httpx.ConnectError("All connection attempts failed"), implicit=False
    )
    assert outer.__cause__ is middle
    assert connection_refused(outer)


def test_a_cause_without_a_context_is_followed() -> None:
    error = httpx.ConnectError("connect")
    error.__cause__ = ConnectionRefusedError(111, "refused")
    assert error.__context__ is None
    assert connection_refused(error)


def test_other_connection_errors_are_not_refusals() -> None:
    assert not connection_refused(httpx.ConnectError("Name or service not known"))
    assert not connection_refused(
        _raised_from(TimeoutError("timed out"), httpx.ConnectTimeout("t"), implicit=True)
    )


def test_a_chain_that_loops_ends_without_a_refusal() -> None:
    first, second = OSError("a"), OSError("b")
    first.__context__, second.__context__ = second, first
    assert not connection_refused(first)


def test_the_knob_is_read_from_the_mapping_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WAIT_SCALE_ENV, raising=False)
    assert wait_scale({WAIT_SCALE_ENV: "0.5"}) == 0.5
    assert wait_scale({WAIT_SCALE_ENV: "1"}) == 1.0
    monkeypatch.setenv(WAIT_SCALE_ENV, "0.25")
    assert wait_scale() == 0.25  # no mapping: the process environment
    assert wait_scale({}) == 1.0  # an empty mapping is not the process environment
