"""Error mapping edges the older tests left open (mutation audit, round 6): a `Retry-After`
given as an HTTP date, the status codes between the named ones, the case of secret-named and
echo keys in an error body, how deep and wide a kept body may be, and the wait a hint names.

The server is simulated where one is needed (httpx.MockTransport); the client is the real one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from opendeploy_plan.gateway import (
    ApiError,
    BindRequired,
    Forbidden,
    GatewayClient,
    GuestQuotaExceeded,
    InvalidRequest,
    NotFound,
    QuotaExceeded,
    RateLimited,
    RetryPolicy,
    ServerError,
)
from opendeploy_plan.gateway._errors import api_error_from_response, parse_retry_after

BASE = "https://gw.example/api"
TOKEN = "od_a" + "Z" * 43
NO_RETRY = RetryPolicy(max_retries=0)


def _error(status: int, body: Any = None, text: str = "", **headers: str) -> ApiError:
    return api_error_from_response(
        status_code=status,
        body=body,
        text=text,
        headers=headers,
        method="POST",
        path="/v1/things",
        secrets=(),
    )


# --- Retry-After ----------------------------------------------------------------------------------


def test_a_retry_after_http_date_in_the_future_is_the_seconds_until_then() -> None:
    when = datetime.now(UTC) + timedelta(seconds=90)
    seconds = parse_retry_after(format_datetime(when, usegmt=True))
    assert seconds is not None
    assert 80 <= seconds <= 91


def test_a_retry_after_http_date_in_the_past_means_no_wait() -> None:
    when = datetime.now(UTC) - timedelta(hours=1)
    assert parse_retry_after(format_datetime(when, usegmt=True)) == 0.0


@pytest.mark.parametrize("value", ["soon", "nan", "inf", "-inf", "", None])
def test_an_unreadable_or_infinite_retry_after_is_no_value(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_a_negative_retry_after_is_clamped_to_zero() -> None:
    assert parse_retry_after(" -5 ") == 0.0


@pytest.mark.anyio
async def test_a_429_with_an_http_date_surfaces_the_wait_in_its_hint() -> None:
    when = datetime.now(UTC) + timedelta(hours=3)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429,
            json={"error": "slow down"},
            headers={"Retry-After": format_datetime(when, usegmt=True)},
        )

    client = GatewayClient(BASE, TOKEN, transport=httpx.MockTransport(handler), retry=NO_RETRY)
    try:
        with pytest.raises(RateLimited) as caught:
            await client.regions()
    finally:
        await client.aclose()
    assert caught.value.retry_after is not None
    assert 3 * 3600 - 30 <= caught.value.retry_after <= 3 * 3600
    # 2 h 59 min and some seconds, rounded up to whole seconds: hours and minutes are named.
    assert caught.value.hint.startswith("Wait 2 h 59 min") or caught.value.hint.startswith(
        "Wait 3 h 0 min"
    )


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.2, "1 s"),
        (119.0, "119 s"),
        (119.5, "2 min"),
        (120.0, "2 min"),
        (150.0, "2 min 30 s"),
        (7199.0, "119 min 59 s"),
        (7200.0, "2 h 0 min"),
        (7290.0, "2 h 1 min"),
    ],
)
def test_a_rate_limit_hint_names_the_wait_in_readable_units(seconds: float, shown: str) -> None:
    error = _error(429, {"error": "slow"}, **{"retry-after": str(seconds)})
    assert isinstance(error, RateLimited)
    assert error.hint == f"Wait {shown} and retry."


# --- status codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [402, 405, 410, 418, 422, 499])
def test_an_unnamed_4xx_is_a_plain_api_error(status: int) -> None:
    error = _error(status, {"error": "nope"})
    assert type(error) is ApiError
    assert error.status_code == status
    assert error.hint == ApiError.default_hint


@pytest.mark.parametrize("status", [500, 501, 502, 503, 504, 599])
def test_every_5xx_is_a_server_error(status: int) -> None:
    assert type(_error(status, {"error": "boom"})) is ServerError


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"error": "BIND_REQUIRED"}, BindRequired),
        ({"code": "Guest_Quota_Exceeded", "error": "too big"}, GuestQuotaExceeded),
        ({"error_code": "bind_required"}, BindRequired),
        ({"error": "Your Subscription has ended"}, QuotaExceeded),
        ({"error": "QUOTA reached"}, QuotaExceeded),
        ({"error": "not yours"}, Forbidden),
    ],
)
def test_a_403_is_classified_whatever_the_case_of_its_code(body: Any, kind: type) -> None:
    assert type(_error(403, body)) is kind


def test_a_404_and_a_400_keep_their_own_types() -> None:
    assert type(_error(404, {"error": "gone"})) is NotFound
    assert type(_error(400, {"error": "bad"})) is InvalidRequest


def test_a_git_validation_hint_prefers_the_default_branch() -> None:
    error = _error(
        400,
        {"error": "bad branch", "available_branches": ["dev", "trunk"], "default_branch": "trunk"},
    )
    assert isinstance(error, InvalidRequest)
    assert error.hint.endswith("use 'trunk'.")
    no_default = _error(400, {"error": "bad branch", "available_branches": ["dev", "trunk"]})
    assert no_default.hint.endswith("use 'dev'.")


def test_a_conflict_names_the_project_id_first() -> None:
    error = _error(409, {"error": "dup", "project_id": "p-1", "existing_id": "e-2"})
    assert "p-1" in error.hint and "e-2" not in error.hint
    other = _error(409, {"error": "dup", "existing_id": "e-2"})
    assert "e-2" in other.hint


# --- what an error body keeps ---------------------------------------------------------------------


def test_secret_named_keys_are_dropped_whatever_their_case() -> None:
    body = {
        "error": "denied",
        "API_KEY": "x1",
        "Authorization": "x2",
        "X-Auth-Token": "x3",
        "Client_Secret": "x4",
        "PassWord": "x5",
        "Bind_Sig": "x6",
        "nested": {"AUTHORIZATION": "x7", "Refresh_TOKEN": "x8", "kept": "yes"},
    }
    error = _error(401, body)
    assert error.details == {"error": "denied", "nested": {"kept": "yes"}}


@pytest.mark.parametrize("key", ["Input", "BODY", "Request", "REQUEST_BODY", "Payload"])
def test_an_echoed_request_is_dropped_whatever_the_case_of_its_key(key: str) -> None:
    error = _error(422, {"error": "invalid", key: {"name": "web"}})
    assert key not in error.details
    assert error.details == {"error": "invalid"}


def test_a_kept_body_is_cut_at_four_levels_deep() -> None:
    body = {"error": "x", "a": {"b": {"c": {"d": {"e": 1}, "s": "kept", "n": 3}}}}
    details = _error(400, body).details
    # depth 0 is the body, 1 "a", 2 "b", 3 "c": a container at depth 4 is dropped, a scalar kept.
    assert details["a"]["b"]["c"] == {"d": None, "s": "kept", "n": 3}


def test_a_kept_list_holds_at_most_fifty_items() -> None:
    details = _error(400, {"error": "x", "items": list(range(80))}).details
    assert details["items"] == list(range(50))


def test_a_kept_body_holds_at_most_fifty_keys() -> None:
    body = {"error": "x", **{f"k{i:03d}": i for i in range(80)}}
    assert len(_error(400, body).details) == 50
