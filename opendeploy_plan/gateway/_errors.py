"""The gateway error tree: transport failures apart from API status errors, each with a hint.

Every API error carries the gateway's reason verbatim (with any secret we sent scrubbed out) and
the failure playbook's advice as `hint`, so a CLI can print "what happened" and "what to do".
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from opendeploy_plan.errors import OdplanError
from opendeploy_plan.textsafe import MAX_MESSAGE_CHARS, clip, safe_text

# Keys of a JSON error body that may echo something we sent and must never be kept.
_SECRET_KEY_PARTS = ("api_key", "bind_sig", "password", "token", "secret", "authorization")
# Keys under which a gateway echoes the request it refused (pydantic's `input`, a `body` or
# `request` copy): never kept, so odplan never prints a request body back.
_ECHO_KEYS = frozenset({"input", "body", "request", "request_body", "payload"})
# The start or end of a secret this long, quoted by the gateway (a truncated key, "…last 6"),
# is redacted too: the first characters of a token are enough to narrow a guess.
_MIN_FRAGMENT = 6
# Details values odplan keeps from an error body: how deep, how many items.
_MAX_DETAIL_DEPTH = 4
_MAX_DETAIL_ITEMS = 50


class GatewayError(OdplanError):
    """Root of every error odplan raises about the gateway, its credential or its answers."""

    default_hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = self.default_hint if hint is None else hint

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


# --- transport: the request may or may not have reached the gateway -----------------------------


class GatewayTransportError(GatewayError):
    """No HTTP answer was received (timeout, refused connection, connection dropped)."""

    default_hint = "Check your network connection and the gateway URL, then retry."

    def __init__(
        self, message: str, *, method: str, path: str, request_sent: bool, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.method = method
        self.path = path
        # False only when the connection never opened, so the gateway cannot have acted on it.
        self.request_sent = request_sent


class GatewayTimeout(GatewayTransportError, TimeoutError):
    """The gateway did not answer in time."""


class GatewayUnreachable(GatewayTransportError, ConnectionError):
    """The connection to the gateway could not be opened."""


class ResponseLost(GatewayTransportError, ConnectionError):
    """The request was sent but the connection broke before a full response arrived."""


class OutcomeUnknown(GatewayError):
    """A create (POST) failed ambiguously: the gateway may or may not have performed it.

    Never retry blindly: read the resource back (by name or marker) first, then decide.
    """

    default_hint = (
        "The gateway may have performed this change. odplan reconciles by reading the "
        "resource back before trying again; re-running the command is safe."
    )

    def __init__(self, message: str, *, method: str, path: str, cause: GatewayError) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.cause = cause


class RedirectRefused(GatewayError):
    """The gateway redirected somewhere odplan will not follow (other origin, or with a body)."""

    default_hint = (
        "odplan never follows a redirect to another host (your token would go with it) nor "
        "re-sends a request body to a redirect target. Check the gateway URL."
    )

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(message)
        self.location = location


class InvalidResponse(GatewayError, ValueError):
    """The gateway answered 2xx with a body odplan cannot understand."""

    default_hint = "The gateway returned an unexpected answer; check the gateway URL and version."


# --- API status errors --------------------------------------------------------------------------


class ApiError(GatewayError):
    """The gateway answered with an error status. `reason` is its message, verbatim."""

    default_hint = "The gateway refused the request; see its reason above."

    def __init__(
        self,
        *,
        status_code: int,
        reason: str,
        method: str,
        path: str,
        details: Mapping[str, Any] | None = None,
        hint: str | None = None,
    ) -> None:
        message = f"{method} {path} failed with HTTP {status_code}: {reason}"
        super().__init__(message, hint=hint)
        self.status_code = status_code
        self.reason = reason
        self.method = method
        self.path = path
        self.details: dict[str, Any] = dict(details or {})


class InvalidRequest(ApiError, ValueError):
    """400: the gateway rejected the request body or parameters."""

    default_hint = "Fix the request as the gateway's reason says, then retry."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error_code: str | None = _str_or_none(self.details.get("error_code"))
        self.error_message: str | None = _str_or_none(self.details.get("error_message"))
        branches = self.details.get("available_branches")
        self.available_branches: list[str] = (
            [str(b) for b in branches] if isinstance(branches, list) else []
        )
        self.default_branch: str | None = _str_or_none(self.details.get("default_branch"))
        if self.available_branches and "hint" not in kwargs:
            pick = self.default_branch or self.available_branches[0]
            self.hint = (
                f"Git validation failed: the branch does not exist or the credentials are "
                f"wrong. Available branches: {', '.join(self.available_branches)}; "
                f"use {pick!r}."
            )


class Unauthorized(ApiError, PermissionError):
    """401: the token was rejected. odplan never deletes or replaces the saved credential."""

    default_hint = (
        "The gateway rejected the API key. odplan has not deleted it. If the credential is "
        "yours, rotate it in the dashboard and run `odplan login --token … --force`; to start "
        "fresh, run `odplan logout` and then `odplan login --guest`."
    )


class Forbidden(ApiError, PermissionError):
    """403 without a more specific code. Never retried: it does not resolve itself."""

    default_hint = "The gateway refused this for your account; it will not succeed on retry."


class BindRequired(Forbidden):
    """403 bind_required: a guest credential needs to be linked to an account first."""

    default_hint = (
        "This credential has not been linked to an account. Open the account-binding URL "
        "(`odplan whoami` shows it), sign in, then retry."
    )

    def __init__(self, *, bind_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind_url = bind_url
        if bind_url and "hint" not in kwargs:
            self.hint = (
                f"This credential has not been linked to an account. Sign in at {bind_url} "
                "to bind it, then retry."
            )


class GuestQuotaExceeded(Forbidden):
    """403 guest_quota_exceeded: the spec exceeds the guest caps (`field`, `requested`, `limit`)."""

    default_hint = (
        "Guest credentials are capped at 1 vCPU, 1 GiB and 1 service per project. Use "
        'cpu_limit "1", memory_limit "1Gi", replicas 1, or bind the credential to an account '
        "(`odplan whoami` shows the binding URL) to use your subscription's limits."
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.field = _str_or_none(self.details.get("field"))
        self.requested = self.details.get("requested")
        self.limit = self.details.get("limit")
        if self.field and "hint" not in kwargs:
            self.hint = (
                f"{self.field}={self.requested} exceeds the guest limit {self.limit}. "
                + self.default_hint
            )


class QuotaExceeded(Forbidden):
    """403 subscription / quota gate. Not worked around: it is a billing decision."""

    default_hint = (
        "A subscription or quota limit was hit. See `GET /v1/billing/quota` (the dashboard's "
        "billing page) for which one ran out; odplan will not work around it."
    )


class NotFound(ApiError, LookupError):
    """404: wrong id, or a route the gateway does not expose."""

    default_hint = (
        "The resource does not exist (wrong id, or it was deleted). Re-run `odplan plan`."
    )


class Conflict(ApiError):
    """409: a duplicate name or domain. `existing_id` names the existing resource when given."""

    default_hint = "A resource with this name already exists."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.existing_id: str | None = _str_or_none(
            self.details.get("project_id") or self.details.get("existing_id")
        )
        if self.existing_id and "hint" not in kwargs:
            self.hint = (
                f"A guest credential may hold one live project at a time; the existing one is "
                f"{self.existing_id}. Reuse it (name it in opendeploy.yaml), wait for the 6 h "
                "garbage collection, or bind the credential to an account."
            )


class RateLimited(ApiError):
    """429: too many requests. `retry_after` is in seconds when the gateway said so."""

    default_hint = "The gateway is rate limiting this client; wait and retry."

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.retry_after = retry_after
        if retry_after is not None and "hint" not in kwargs:
            self.hint = f"Wait {_human_seconds(retry_after)} and retry."


class ServerError(ApiError):
    """5xx: the gateway or a service behind it failed. `service` names it when reported."""

    default_hint = "The platform had an internal error. Retry later; if it repeats, report it."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service: str | None = _str_or_none(self.details.get("service"))
        if self.service and "hint" not in kwargs:
            self.hint = (
                f"The platform's {self.service} failed. Retry later; if it repeats, report it "
                "with this message."
            )


# --- building an ApiError from a response -------------------------------------------------------


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            from datetime import UTC, datetime

            when = parsedate_to_datetime(value)
            seconds = (when - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of a secret value in `text` by `***`, as written and as it
    appears inside a JSON string (a raw error body escapes quotes, backslashes, non-ASCII),
    and a quoted start or end of a secret of `_MIN_FRAGMENT` or more characters (a gateway
    quoting a truncated key leaks those characters just the same)."""
    forms: set[str] = set()
    for secret in secrets:
        if len(secret) >= 4:
            forms.add(secret)
            forms.add(json.dumps(secret)[1:-1])
            forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    for form in sorted(forms, key=len, reverse=True):
        if token_like(form):
            text = _scrub_fragments(text, form)
    return text


def token_like(secret: str) -> bool:
    """A value whose quoted start or end is redacted too: long, one word, not a URL (the
    start of `https://…` or of a plain word would redact ordinary text)."""
    return len(secret) >= 12 and not any(c.isspace() for c in secret) and "://" not in secret


def _scrub_fragments(text: str, secret: str) -> str:
    """`text` with a quoted start or end of `secret` (at least `_MIN_FRAGMENT` characters,
    beginning resp. ending at a word boundary) replaced by `***`: a gateway that truncates a
    key it quotes (`od_kQ7rT9x...`, `...Tn7`) still leaks those characters."""
    spans: list[tuple[int, int]] = []
    head, tail = secret[:_MIN_FRAGMENT], secret[-_MIN_FRAGMENT:]
    start = text.find(head)
    while start >= 0:
        if start == 0 or not text[start - 1].isalnum():
            end = start + _MIN_FRAGMENT
            while (
                end < len(text) and end - start < len(secret) and text[end] == secret[end - start]
            ):
                end += 1
            spans.append((start, end))
        start = text.find(head, start + 1)
    end = text.find(tail)
    while end >= 0:
        stop = end + _MIN_FRAGMENT
        if stop == len(text) or not text[stop].isalnum():
            begin = end
            while (
                begin > 0
                and stop - begin < len(secret)
                and text[begin - 1] == secret[len(secret) - (stop - begin) - 1]
            ):
                begin -= 1
            spans.append((begin, stop))
        end = text.find(tail, end + 1)
    for begin, stop in sorted(set(spans), reverse=True):
        fragment = text[begin:stop]
        if stop - begin >= 10 or any(c.isdigit() for c in fragment):
            text = text[:begin] + "***" + text[stop:]
    return text


def _scrub_value(value: Any, secrets: Iterable[str], depth: int = 0) -> Any:
    """An error body's value as odplan keeps it: secrets scrubbed, controls escaped, strings
    clipped, echoed requests and secret-named keys dropped, bounded in depth and size."""
    if isinstance(value, str):
        return safe_text(scrub(value[: MAX_MESSAGE_CHARS * 2], secrets))
    if depth >= _MAX_DETAIL_DEPTH:
        return None if isinstance(value, list | dict) else value
    if isinstance(value, list):
        return [_scrub_value(v, secrets, depth + 1) for v in value[:_MAX_DETAIL_ITEMS]]
    if isinstance(value, dict):
        return {
            safe_text(str(k), 100): _scrub_value(v, secrets, depth + 1)
            for k, v in list(value.items())[:_MAX_DETAIL_ITEMS]
            if not any(part in str(k).lower() for part in _SECRET_KEY_PARTS)
            and str(k).lower() not in _ECHO_KEYS
        }
    return value


def api_error_from_response(
    *,
    status_code: int,
    body: Any,
    text: str,
    headers: Mapping[str, str],
    method: str,
    path: str,
    secrets: Iterable[str] = (),
    bind_url: str | None = None,
) -> ApiError:
    """Map an error response to the failure playbook's typed error.

    `body` is the decoded JSON (or None); `secrets` are values this request carried, scrubbed
    out of anything the gateway echoes back.
    """
    secrets = tuple(secrets)
    details: dict[str, Any] = _scrub_value(body, secrets) if isinstance(body, dict) else {}
    reason = _reason_of(details, scrub(text[:4096], secrets), status_code)
    code = " ".join(str(details.get(key) or "") for key in ("error", "code", "error_code")).lower()
    common: dict[str, Any] = {
        "status_code": status_code,
        "reason": reason,
        "method": method,
        "path": path,
        "details": details,
    }
    if status_code == 400:
        return InvalidRequest(**common)
    if status_code == 401:
        return Unauthorized(**common)
    if status_code == 403:
        if "bind_required" in code:
            return BindRequired(bind_url=bind_url, **common)
        if "guest_quota_exceeded" in code:
            return GuestQuotaExceeded(**common)
        lowered = reason.lower()
        if "subscription" in lowered or "quota" in lowered:
            return QuotaExceeded(**common)
        return Forbidden(**common)
    if status_code == 404:
        return NotFound(**common)
    if status_code == 409:
        return Conflict(**common)
    if status_code == 429:
        return RateLimited(retry_after=parse_retry_after(headers.get("retry-after")), **common)
    if status_code >= 500:
        return ServerError(**common)
    return ApiError(**common)


def _reason_of(details: Mapping[str, Any], text: str, status_code: int) -> str:
    parts: list[str] = []
    for key in ("error", "message", "error_message", "detail"):
        value = details.get(key)
        if isinstance(value, str) and value and value not in parts:
            parts.append(value)
    if parts:
        return clip("; ".join(parts))
    snippet = safe_text(" ".join(text.split()), 300)
    return snippet or f"HTTP {status_code} with an empty body"


def _str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _human_seconds(seconds: float) -> str:
    whole = math.ceil(seconds)
    if whole < 120:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    if minutes < 120:
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
