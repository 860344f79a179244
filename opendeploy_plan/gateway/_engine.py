"""The request engine under the endpoints: send, retry, redirect, authorize, parse.

Whether a failed attempt is retried is decided by `decide_retry` (the pure rules); this room
only acts on the decision. Redirects are never followed automatically: only a GET to the same
origin is re-issued, so the `Authorization` header can only ever reach the configured gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from opendeploy_plan import __version__
from opendeploy_plan.gateway._answers import (
    NOT_JSON,
    decode_json,
    env_secrets,
    remembered,
    scrub_free_text,
)
from opendeploy_plan.gateway._errors import (
    ApiError,
    GatewayError,
    GatewayTimeout,
    GatewayTransportError,
    GatewayUnreachable,
    InvalidResponse,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RedirectRefused,
    ResponseLost,
    ServerError,
    api_error_from_response,
    scrub,
)
from opendeploy_plan.gateway._models import Acknowledgement, SseEvent
from opendeploy_plan.gateway._retry import (
    Failure,
    RetryDecision,
    RetryNotice,
    RetryPolicy,
    connection_refused,
    decide_retry,
)
from opendeploy_plan.gateway._sse import bounded_lines, parse_sse
from opendeploy_plan.gateway._transport import ByScheme
from opendeploy_plan.textsafe import safe_text

ModelT = TypeVar("ModelT", bound=BaseModel)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 3
# Caps on what one answer may cost (docs/credentials.md, "Hostile or broken gateways"): a
# success body over MAX_RESPONSE_BYTES is refused as soon as it is seen to be (read stops
# there); of an error body only the first MAX_ERROR_BODY_BYTES are read, which is plenty for
# a reason. Every attempt, redirects and body included, must finish within its deadline: the
# per-read `timeout` alone lets a gateway that sends one byte every few seconds stall forever.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
MAX_ERROR_BODY_BYTES = 64 * 1024
DEFAULT_DEADLINE = 60.0
# An upload streams the archive itself, so it gets this many times the deadline.
UPLOAD_DEADLINE_FACTOR = 15
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP attempt, reported to `on_request` (for the audit log, counters, benchmarks)."""

    method: str
    path: str
    attempt: int
    status_code: int | None
    elapsed: float
    error: str | None = None


@dataclass
class Call:
    """A request to make, rebuilt for each attempt (a file body is rewound first)."""

    method: str
    path: str
    params: Mapping[str, str] | None = None
    json_body: Any = None
    form: Mapping[str, str] | None = None
    file_field: tuple[str, str, IO[bytes]] | None = None
    anonymous: bool = False
    idempotent: bool = False
    retry_rate_limit: bool = True
    secrets: tuple[str, ...] = field(default_factory=tuple)
    # What the call does, in words ("list a service's domains"), for a 404's message.
    operation: str = ""

    def __post_init__(self) -> None:
        # GET, HEAD, PUT and DELETE are idempotent by definition; POSTs opt in explicitly.
        if self.method in _IDEMPOTENT_METHODS:
            self.idempotent = True

    def identity(self) -> str:
        """Method, path, query and body: "the same call" for the playbook's one retry."""
        body = json.dumps(self.json_body, sort_keys=True, default=str)
        form = json.dumps(dict(self.form or {}), sort_keys=True)
        raw = f"{self.method} {self.path} {sorted((self.params or {}).items())} {body} {form}"
        return hashlib.sha256(raw.encode()).hexdigest()


class RequestEngine:
    """HTTP for one gateway and one credential: a concurrency cap, retries, safe redirects.

    Invariants: the token is only sent to `base_url`'s origin; at most `max_in_flight`
    requests are in flight at once across every task using this instance.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_in_flight: int = 10,
        on_request: Callable[[RequestRecord], None] | None = None,
        bind_url: str | None = None,
        user_agent: str | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_retry: Callable[[RetryNotice], None] | None = None,
        deadline: float | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.deadline = DEFAULT_DEADLINE if deadline is None else deadline
        self.max_response_bytes = max_response_bytes
        self._on_retry = on_retry
        # Identities of non-idempotent calls that got a 5xx once (see `send`).
        self._server_errors: set[str] = set()
        # Every secret value this client has sent or read in an env map (env values,
        # passwords, the token): the gateway's free text (a build's `error_msg`, a log line)
        # is scrubbed of them.
        self.sent_secrets: set[str] = {api_key} if api_key else set()
        self.retry = retry or RetryPolicy()
        self.bind_url = bind_url
        self.api_key = api_key
        self.max_in_flight = max_in_flight
        self._on_request = on_request
        self._sleep = sleep
        self._rng = random.Random()
        self._slots = asyncio.Semaphore(max_in_flight)
        self._origin = origin(httpx.URL(self.base_url))
        headers = {
            "User-Agent": user_agent or f"odplan/{__version__}",
            "Accept": "application/json",
        }
        self.http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=headers,
            transport=transport or ByScheme(),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- typed reads ----------------------------------------------------------------------------

    async def get_model(
        self, path: str, model: type[ModelT], *, params: Mapping[str, str] | None = None
    ) -> ModelT:
        response = await self.send(Call("GET", path, params=params, idempotent=True))
        return self.parse(response, model)

    async def get_list(
        self, path: str, model: type[ModelT], *, params: Mapping[str, str] | None = None
    ) -> list[ModelT]:
        response = await self.send(Call("GET", path, params=params or None, idempotent=True))
        return self.parse_list(response, model)

    def parse_list(self, response: httpx.Response, model: type[ModelT]) -> list[ModelT]:
        items = unwrap_list(self.json(response))
        if items is None:
            raise InvalidResponse(
                f"GET {response.request.url.path}: expected a list in the gateway's answer"
            )
        return [self.validate(item, model, response) for item in items]

    # --- sending --------------------------------------------------------------------------------

    async def send(self, call: Call) -> httpx.Response:
        """One call, retried as `decide_retry` says; a success response or an error."""
        retry_number = 0
        key = call.identity()
        self.sent_secrets.update(secret for secret in call.secrets if remembered(secret))
        while True:
            error: GatewayError
            try:
                response = await self._attempt(call, retry_number)
            except GatewayTransportError as transport_error:
                error = transport_error
                failure = Failure(
                    None,
                    request_sent=transport_error.request_sent,
                    refused=connection_refused(transport_error),
                )
            else:
                if response.is_success:
                    self._server_errors.discard(key)
                    return response
                error = self.api_error(response, call)
                retry_after = error.retry_after if isinstance(error, RateLimited) else None
                failure = Failure(
                    response.status_code,
                    retry_after=retry_after,
                    repeated_server_error=key in self._server_errors,
                )
            decision = decide_retry(
                self.retry,
                failure,
                idempotent=call.idempotent,
                retry_number=retry_number,
                retry_rate_limit=call.retry_rate_limit,
                draw=self._rng.random(),
            )
            if decision.action == "retry":
                self._notify(call, error, decision, retry_number + 1)
                await self._sleep(decision.delay)
                retry_number += 1
                continue
            if decision.action == "outcome_unknown":
                if isinstance(error, ServerError):
                    # The playbook's one retry of a create: the caller re-sends it after
                    # reading back; a second 5xx for the same call is then raised as is.
                    self._server_errors.add(key)
                if decision.delay > 0:
                    self._notify(call, error, decision, 1)
                    await self._sleep(decision.delay)
                raise OutcomeUnknown(
                    f"{call.method} /{call.path}: outcome unknown ({error.message})",
                    method=call.method,
                    path="/" + call.path,
                    cause=error,
                ) from error
            raise self.named(error, call)

    @staticmethod
    def named(error: GatewayError, call: Call) -> GatewayError:
        """A 404 of a call that names its operation says which one the gateway lacks."""
        if isinstance(error, NotFound) and call.operation:
            error.message = f"{call.operation}: {error.message}"
            error.hint = (
                f"Either the id is wrong, or this gateway does not serve {call.operation} at "
                f"{call.method} /{call.path}, the documented route; check the gateway URL and "
                "version, or do this step in the dashboard."
            )
        return error

    def _notify(self, call: Call, error: GatewayError, decision: RetryDecision, n: int) -> None:
        if self._on_retry is None:
            return
        status = getattr(error, "status_code", None)
        notice = RetryNotice(
            method=call.method,
            path="/" + call.path,
            reason=f"HTTP {status}" if status else type(error).__name__,
            delay=decision.delay,
            retry=n,
            limit=decision.limit,
            reconcile=decision.action == "outcome_unknown",
        )
        with contextlib.suppress(Exception):
            self._on_retry(notice)

    async def _attempt(self, call: Call, attempt: int) -> httpx.Response:
        started = time.monotonic()
        status: int | None = None
        failure: str | None = None
        deadline = self.deadline * (UPLOAD_DEADLINE_FACTOR if call.file_field else 1)
        try:
            async with self._slots:
                try:
                    async with asyncio.timeout(deadline):
                        response = await self.send_following_redirects(call)
                except GatewayTransportError:
                    # Already classified (a GatewayTimeout is a TimeoutError too): a connect
                    # timeout sent nothing and must stay safe to retry, not become "sent".
                    raise
                except TimeoutError:
                    raise GatewayTimeout(
                        f"{call.method} {self.base_url}/{call.path}: no complete answer within "
                        f"{deadline:g} s (the deadline of one request)",
                        method=call.method,
                        path="/" + call.path,
                        request_sent=True,
                    ) from None
            status = response.status_code
            return response
        except GatewayError as error:
            failure = type(error).__name__
            raise
        finally:
            if self._on_request is not None:
                record = RequestRecord(
                    method=call.method,
                    path="/" + call.path,
                    attempt=attempt,
                    status_code=status,
                    elapsed=time.monotonic() - started,
                    error=failure,
                )
                with contextlib.suppress(Exception):
                    self._on_request(record)

    async def send_following_redirects(self, call: Call) -> httpx.Response:
        """One attempt; a same-origin GET redirect is re-issued, anything else refused."""
        request = self.build(call)
        for _ in range(_MAX_REDIRECTS + 1):
            try:
                response = await self.http.send(request, stream=True)
            except httpx.TransportError as exc:
                raise self.transport_error(exc, call.method, call.path) from exc
            if response.status_code not in REDIRECT_STATUSES:
                return await self.read_body(response, call)
            location = response.headers.get("location", "")
            await response.aclose()
            try:
                target = response.url.join(location)
            except httpx.InvalidURL:
                raise RedirectRefused(
                    f"{call.method} /{call.path} was redirected (HTTP {response.status_code}) "
                    "to a location that is not a valid URL; not followed",
                    location=safe_text(location, 300),
                ) from None
            if call.method not in ("GET", "HEAD"):
                raise RedirectRefused(
                    f"{call.method} /{call.path} was redirected (HTTP {response.status_code}) "
                    f"to {safe_url(target)}; odplan does not re-send a request body",
                    location=safe_url(target),
                )
            if origin(target) != self._origin:
                raise RedirectRefused(
                    f"GET /{call.path} was redirected to another origin "
                    f"({safe_url(target)}); not followed, the token was not sent there",
                    location=safe_url(target),
                )
            request = self.http.build_request(call.method, target)
            if call.anonymous:
                request.headers.pop("Authorization", None)
            else:
                self.authorize(request)
        raise RedirectRefused(
            f"{call.method} /{call.path}: more than {_MAX_REDIRECTS} redirects",
            location=safe_url(request.url),
        )

    async def read_body(self, response: httpx.Response, call: Call) -> httpx.Response:
        """`response` with its body read, at most `max_response_bytes` of a success (more is
        `InvalidResponse`, and reading stops there) and `MAX_ERROR_BODY_BYTES` of an error
        (the rest is dropped: a reason is short)."""
        success = response.is_success
        limit = self.max_response_bytes if success else MAX_ERROR_BODY_BYTES
        chunks: list[bytes] = []
        size = 0
        try:
            declared = response.headers.get("content-length", "")
            if success and declared.isdigit() and int(declared) > limit:
                raise self.too_large(call, response.status_code)
            async for chunk in response.aiter_bytes():
                if size + len(chunk) > limit:
                    if success:
                        raise self.too_large(call, response.status_code)
                    chunks.append(chunk[: limit - size])
                    break
                size += len(chunk)
                chunks.append(chunk)
        except httpx.TransportError as exc:
            raise self.transport_error(exc, call.method, call.path) from exc
        except httpx.DecodingError as exc:
            raise InvalidResponse(
                f"{call.method} /{call.path}: the gateway's answer (HTTP {response.status_code}) "
                f"could not be decoded ({type(exc).__name__})"
            ) from None
        finally:
            await response.aclose()
        # The body is decoded already: a fresh response must not decode it again.
        headers = [
            (key, value)
            for key, value in response.headers.multi_items()
            if key.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=b"".join(chunks),
            request=response.request,
            extensions=response.extensions,
        )

    def too_large(self, call: Call, status: int) -> InvalidResponse:
        return InvalidResponse(
            f"{call.method} /{call.path}: the gateway's answer (HTTP {status}) is larger than "
            f"{self.max_response_bytes // (1024 * 1024)} MiB; odplan stopped reading it",
            hint="No opendeploy answer is that large: check the gateway URL (a proxy or "
            "another server may be answering), then retry.",
        )

    def build(self, call: Call, *, accept: str | None = None) -> httpx.Request:
        files: list[tuple[str, Any]] | None = None
        data = call.form
        if call.form is not None:
            # The upload endpoint is multipart/form-data even without a file (the Git form):
            # `(None, value)` parts make httpx encode plain fields as multipart too.
            files = [(name, (None, value)) for name, value in call.form.items()]
            data = None
        if call.file_field is not None:
            field_name, filename, handle = call.file_field
            if seekable(handle):
                handle.seek(0)
            files = [*(files or []), (field_name, (filename, handle, "application/zip"))]
        request = self.http.build_request(
            call.method,
            call.path,
            params=call.params,
            json=call.json_body if call.json_body is not None else None,
            data=data,
            files=files,
        )
        if accept:
            request.headers["Accept"] = accept
        if not call.anonymous:
            self.authorize(request)
        return request

    def authorize(self, request: httpx.Request) -> None:
        if self.api_key and origin(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {self.api_key}"

    # --- errors ---------------------------------------------------------------------------------

    def transport_error(
        self, exc: httpx.TransportError, method: str, path: str
    ) -> GatewayTransportError:
        where = f"{method} {self.base_url}/{path.lstrip('/')}"
        not_sent = (
            httpx.ConnectError,
            httpx.ConnectTimeout,
            httpx.PoolTimeout,
            httpx.UnsupportedProtocol,
            httpx.ProxyError,
        )
        sent = not isinstance(exc, not_sent)
        kind = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            return GatewayTimeout(
                f"{where}: timed out ({kind})", method=method, path="/" + path, request_sent=sent
            )
        if sent:
            return ResponseLost(
                f"{where}: the connection broke before a response arrived ({kind})",
                method=method,
                path="/" + path,
                request_sent=True,
            )
        return GatewayUnreachable(
            f"{where}: cannot connect ({kind})", method=method, path="/" + path, request_sent=False
        )

    def api_error(self, response: httpx.Response, call: Call) -> ApiError:
        body: Any = decode_json(response.content)
        secrets = (*call.secrets, *((self.api_key,) if self.api_key else ()))
        return api_error_from_response(
            status_code=response.status_code,
            body=body,
            text=response.text,
            headers=response.headers,
            method=call.method,
            path="/" + call.path,
            secrets=secrets,
            bind_url=self.bind_url,
        )

    # --- parsing --------------------------------------------------------------------------------

    def json(self, response: httpx.Response) -> Any:
        payload = decode_json(response.content, NOT_JSON)
        if payload is NOT_JSON:
            raise InvalidResponse(
                f"{response.request.method} {response.request.url.path}: the gateway answered "
                f"HTTP {response.status_code} with a body that is not JSON odplan can read "
                "(malformed, not UTF-8, or nested too deeply)"
            )
        return payload

    def parse(self, response: httpx.Response, model: type[ModelT]) -> ModelT:
        return self.validate(self.json(response), model, response)

    def parse_ack(self, response: httpx.Response) -> Acknowledgement:
        if not response.content:
            return Acknowledgement()
        payload = self.json(response)
        return self.validate(
            payload if isinstance(payload, dict) else {}, Acknowledgement, response
        )

    def validate(self, payload: Any, model: type[ModelT], response: httpx.Response) -> ModelT:
        self.sent_secrets |= env_secrets(payload)
        if self.sent_secrets:
            payload = scrub_free_text(payload, self.sent_secrets)
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            # Never include input values: an env map could be among them.
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
                for e in exc.errors(include_input=False, include_url=False)[:5]
            )
            raise InvalidResponse(
                f"{response.request.method} {response.request.url.path}: unexpected answer "
                f"({problems})"
            ) from None

    # --- streams --------------------------------------------------------------------------------

    async def stream_sse(self, path: str, *, operation: str = "") -> AsyncGenerator[SseEvent, None]:
        """`GET path` as server-sent events, one at a time until the server closes.

        A stream is long-lived, so it does not hold one of the `max_in_flight` slots.
        """
        call = Call("GET", path, operation=operation)
        request = self.build(call, accept="text/event-stream")
        try:
            response = await self.http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self.transport_error(exc, "GET", path) from exc
        try:
            if response.status_code in REDIRECT_STATUSES:
                raise RedirectRefused(
                    f"GET /{path} was redirected; odplan does not follow stream redirects",
                    location=safe_text(response.headers.get("location", ""), 300),
                )
            if not response.is_success:
                response = await self.read_body(response, call)
                raise self.named(self.api_error(response, call), call)
            async for event in parse_sse(bounded_lines(response.aiter_text())):
                if self.sent_secrets:
                    event = event.model_copy(update={"data": scrub(event.data, self.sent_secrets)})
                yield event
        except httpx.TransportError as exc:
            raise self.transport_error(exc, "GET", path) from exc
        finally:
            await response.aclose()


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port or default_port)


def safe_url(url: httpx.URL) -> str:
    """A URL without userinfo or query, fit for a message."""
    return str(url.copy_with(query=None, fragment=None, username=None, password=None))


def seekable(handle: IO[bytes]) -> bool:
    try:
        return bool(handle.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def unwrap_list(payload: Any) -> list[Any] | None:
    """A list answer, bare or wrapped (`.data`, `.items`, or a single list-valued key)."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in ("data", "items", "results"):
            value = payload.get(key)
            if isinstance(value, list):
                return value
            if value is None and key in payload:
                return []
        lists = [v for v in payload.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
    if payload is None:
        return []
    return None
