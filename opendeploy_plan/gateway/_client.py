"""The async gateway client: every endpoint odplan uses, retries, redirects, a concurrency cap.

Idempotent requests (GET, PUT, DELETE and the few POSTs that are safe to repeat) retry on
transport errors and 5xx with jittered exponential backoff; creates never retry after an
ambiguous failure and raise `OutcomeUnknown` so the caller reconciles by reading first.
Redirects are never followed automatically: only a GET to the same origin is re-issued, so the
`Authorization` header can only ever reach the configured gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from opendeploy_plan import __version__
from opendeploy_plan.gateway._errors import (
    ApiError,
    GatewayError,
    GatewayTimeout,
    GatewayTransportError,
    GatewayUnreachable,
    InvalidResponse,
    OutcomeUnknown,
    RateLimited,
    RedirectRefused,
    ResponseLost,
    ServerError,
    api_error_from_response,
)
from opendeploy_plan.gateway._models import (
    Acknowledgement,
    Dependency,
    DependencyStatus,
    Deployment,
    DeploymentLogs,
    EnvVars,
    GuestRegistration,
    Profile,
    Project,
    Quota,
    Region,
    Service,
    ServiceCreated,
    ServiceDomain,
    ServiceLogs,
    SourceUpdate,
    SseEvent,
    SubdomainCheck,
    UploadResult,
)

ModelT = TypeVar("ModelT", bound=BaseModel)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 3
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
# Request-body keys whose values are secrets: scrubbed from any error text the gateway echoes.
_SECRET_BODY_KEYS = frozenset(
    {"runtime_variables", "build_variables", "variables", "env_vars", "password", "token"}
)
# Nested upload fields whose values are secrets.
_SECRET_FORM_FIELDS = frozenset({"git_token"})


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

    def delay(self, retry_number: int, rng: random.Random) -> float:
        """Seconds to wait before the `retry_number`-th retry (0-based)."""
        raw = min(self.max_delay, self.base_delay * (2**retry_number))
        return float(max(0.0, raw * rng.uniform(1 - self.jitter, 1 + self.jitter)))


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
class _Call:
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

    def __post_init__(self) -> None:
        # GET, HEAD, PUT and DELETE are idempotent by definition; POSTs opt in explicitly.
        if self.method in _IDEMPOTENT_METHODS:
            self.idempotent = True


class GatewayClient:
    """An async client for one gateway and one credential. Use it as an async context manager.

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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.bind_url = bind_url
        self._api_key = api_key
        self._on_request = on_request
        self._sleep = sleep
        self._rng = random.Random()
        self._slots = asyncio.Semaphore(max_in_flight)
        self.max_in_flight = max_in_flight
        self._origin = _origin(httpx.URL(self.base_url))
        headers = {
            "User-Agent": user_agent or f"odplan/{__version__}",
            "Accept": "application/json",
        }
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=headers,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        )

    def __repr__(self) -> str:
        return f"GatewayClient({self.base_url!r})"

    @property
    def has_credential(self) -> bool:
        return bool(self._api_key)

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- preamble, credentials ------------------------------------------------------------------

    async def regions(self) -> list[Region]:
        """`GET /v1/regions/`: the auth sanity check that works for every token kind."""
        return await self._get_list("v1/regions/", Region)

    async def active_region(self) -> Region:
        """The first `active` region; `GatewayError` when there is none."""
        for region in await self.regions():
            if region.status == "active":
                return region
        raise GatewayError(
            "the gateway lists no active region", hint="Retry later; the platform has no region."
        )

    async def profile(self) -> Profile:
        """`GET /v1/profile`: 200 for dashboard and account-bound tokens, 401 for pending guests."""
        return await self._get_model("v1/profile", Profile)

    async def register_guest(
        self, *, source_hint: str, name: str = "opendeploy local deploy"
    ) -> GuestRegistration:
        """`POST /v1/client-guests/register` (anonymous). A 429 is raised, never retried."""
        response = await self._send(
            _Call(
                "POST",
                "v1/client-guests/register",
                json_body={"source_hint": source_hint, "name": name},
                anonymous=True,
                retry_rate_limit=False,
            )
        )
        return self._parse(response, GuestRegistration)

    # --- projects -------------------------------------------------------------------------------

    async def list_projects(self) -> list[Project]:
        return await self._get_list("v1/projects/", Project)

    async def get_project(self, project_id: str) -> Project:
        return await self._get_model(f"v1/projects/{_seg(project_id)}", Project)

    async def create_project(
        self,
        name: str,
        *,
        region_id: str | None = None,
        repo_url: str = "file://upload",
        branch: str = "main",
        skip_validation: bool | None = None,
        description: str | None = None,
    ) -> Project:
        """`POST /v1/projects/`. 409 raises `Conflict` (its `existing_id` for a guest)."""
        body: dict[str, Any] = {"name": name, "repo_url": repo_url, "branch": branch}
        if region_id:
            body["region_id"] = region_id
        body["skip_validation"] = (
            repo_url.startswith("file://") if skip_validation is None else skip_validation
        )
        if description is not None:
            body["description"] = description
        response = await self._send(_Call("POST", "v1/projects/", json_body=body))
        return self._parse(response, Project)

    async def delete_project(self, project_id: str) -> None:
        await self._send(_Call("DELETE", f"v1/projects/{_seg(project_id)}", idempotent=True))

    # --- services -------------------------------------------------------------------------------

    async def create_service(self, project_id: str, spec: Mapping[str, Any]) -> ServiceCreated:
        """`POST /v1/projects/:id/services/` with the full spec (env pre-merged)."""
        response = await self._send(
            _Call(
                "POST",
                f"v1/projects/{_seg(project_id)}/services/",
                json_body=dict(spec),
                secrets=_secret_values(spec),
            )
        )
        return self._parse(response, ServiceCreated)

    async def list_services(self, project_id: str) -> list[Service]:
        return await self._get_list(f"v1/projects/{_seg(project_id)}/services/", Service)

    async def get_service(self, service_id: str) -> Service:
        return await self._get_model(f"v1/services/{_seg(service_id)}", Service)

    async def update_service(self, service_id: str, fields: Mapping[str, Any]) -> Service:
        """`PUT /v1/services/:id`: partial update, e.g. resources (no redeploy needed)."""
        response = await self._send(
            _Call(
                "PUT",
                f"v1/services/{_seg(service_id)}",
                json_body=dict(fields),
                idempotent=True,
                secrets=_secret_values(fields),
            )
        )
        return self._parse(response, Service)

    async def delete_service(self, service_id: str) -> None:
        """`DELETE /v1/services/:id` (not in the skill's docs; needed to replace a service)."""
        await self._send(_Call("DELETE", f"v1/services/{_seg(service_id)}", idempotent=True))

    async def get_env(self, project_id: str, service_id: str) -> EnvVars:
        return await self._get_model(
            f"v1/projects/{_seg(project_id)}/services/{_seg(service_id)}/env", EnvVars
        )

    async def replace_env(
        self, project_id: str, service_id: str, variables: Mapping[str, str]
    ) -> EnvVars:
        """`PUT …/env`: a full replace; keys missing from `variables` are removed."""
        response = await self._send(
            _Call(
                "PUT",
                f"v1/projects/{_seg(project_id)}/services/{_seg(service_id)}/env",
                json_body={"variables": dict(variables)},
                idempotent=True,
                secrets=tuple(variables.values()),
            )
        )
        return self._parse(response, EnvVars)

    async def service_logs(
        self, project_id: str, service_id: str, *, tail: int | None = None
    ) -> ServiceLogs:
        params = {"tail": str(tail)} if tail is not None else None
        response = await self._send(
            _Call(
                "GET",
                f"v1/projects/{_seg(project_id)}/services/{_seg(service_id)}/logs",
                params=params,
                idempotent=True,
            )
        )
        payload = self._json(response)
        if isinstance(payload, list):
            payload = {"logs": payload}
        return self._validate(payload, ServiceLogs, response)

    # --- dependencies ---------------------------------------------------------------------------

    async def create_dependency(
        self,
        project_id: str,
        dependency_id: str,
        *,
        environment: str | None = None,
        template_id: str | None = None,
        display_name: str | None = None,
        database_name: str | None = None,
        username: str | None = None,
    ) -> Dependency:
        """`POST /v1/dependencies/create` (no `service_id`: env is bound at service creation)."""
        body: dict[str, Any] = {"project_id": project_id, "dependency_id": dependency_id}
        optional = {
            "environment": environment,
            "template_id": template_id,
            "display_name": display_name,
            "database_name": database_name,
            "username": username,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        response = await self._send(_Call("POST", "v1/dependencies/create", json_body=body))
        return self._parse(response, Dependency)

    async def dependency_status(self, project_id: str) -> DependencyStatus:
        response = await self._send(
            _Call("GET", f"v1/dependencies/status/{_seg(project_id)}", idempotent=True)
        )
        payload = self._json(response)
        if isinstance(payload, list):
            payload = {"dependencies": payload}
        return self._validate(payload, DependencyStatus, response)

    async def delete_dependency(self, project_id: str, dependency_instance_id: str) -> None:
        await self._send(
            _Call(
                "DELETE",
                f"v1/dependencies/{_seg(project_id)}/{_seg(dependency_instance_id)}",
                idempotent=True,
            )
        )

    # --- source ---------------------------------------------------------------------------------

    async def upload_only(
        self,
        archive: Path | IO[bytes],
        *,
        project_name: str,
        region_id: str,
        description: str | None = None,
        filename: str | None = None,
    ) -> UploadResult:
        """`POST /v1/upload/upload-only`: park a ZIP. The file is streamed, never read whole.

        Parking twice only leaves an orphan temp file the platform collects, so a failed
        upload is retried like an idempotent request when the file can be rewound.
        """
        form = {"project_name": project_name, "region_id": region_id}
        if description is not None:
            form["description"] = description
        if isinstance(archive, Path):
            with archive.open("rb") as handle:
                return await self._upload(form, filename or archive.name, handle)
        name = filename or Path(str(getattr(archive, "name", "source.zip"))).name
        return await self._upload(form, name, archive)

    async def _upload(self, form: dict[str, str], filename: str, handle: IO[bytes]) -> UploadResult:
        rewindable = _seekable(handle)
        response = await self._send(
            _Call(
                "POST",
                "v1/upload/upload-only",
                form=form,
                file_field=("project_file", filename, handle),
                idempotent=rewindable,
            )
        )
        return self._parse(response, UploadResult)

    async def upload_git(
        self,
        git_url: str,
        *,
        project_name: str,
        region_id: str,
        branch: str | None = None,
        git_token: str | None = None,
    ) -> UploadResult:
        """`POST /v1/upload/upload-only` for a Git source (the token goes to the gateway only)."""
        form = {"project_name": project_name, "region_id": region_id, "git_url": git_url}
        if branch:
            form["branch"] = branch
        if git_token:
            form["git_token"] = git_token
        response = await self._send(
            _Call(
                "POST",
                "v1/upload/upload-only",
                form=form,
                idempotent=True,
                secrets=(git_token,) if git_token else (),
            )
        )
        return self._parse(response, UploadResult)

    async def update_source(
        self, project_id: str, temp_file_path: str, *, analysis: Mapping[str, Any] | None = None
    ) -> SourceUpdate:
        """`POST /v1/upload/update-source`: bind the parked archive to the project (required).

        Binding the same temp file twice is harmless ("already up to date"), so it retries.
        """
        body: dict[str, Any] = {"project_id": project_id, "temp_file_path": temp_file_path}
        if analysis is not None:
            body["analysis"] = dict(analysis)
        response = await self._send(
            _Call("POST", "v1/upload/update-source", json_body=body, idempotent=True)
        )
        return self._parse(response, SourceUpdate)

    # --- deployments ----------------------------------------------------------------------------

    async def create_deployment(
        self,
        project_id: str,
        service_id: str,
        *,
        environment: str,
        temp_file_path: str,
        source: str = "zip",
        description: str | None = None,
        dependencies: Iterable[str] | None = None,
        branch: str | None = None,
        strategy: str | None = None,
    ) -> Deployment:
        """`POST /v1/deployments/`. Never sends a `resources` block (the service row rules)."""
        body: dict[str, Any] = {
            "project_id": project_id,
            "service_id": service_id,
            "environment": environment,
            "source": source,
            "temp_file_path": temp_file_path,
        }
        if description is not None:
            body["description"] = description
        if dependencies is not None:
            body["dependencies"] = list(dependencies)
        if branch is not None:
            body["branch"] = branch
        if strategy is not None:
            body["strategy"] = strategy
        response = await self._send(_Call("POST", "v1/deployments/", json_body=body))
        return self._parse(response, Deployment)

    async def get_deployment(self, deployment_id: str) -> Deployment:
        """`GET /v1/deployments/:id`, the canonical status poll (the `/status` alias 404s)."""
        return await self._get_model(f"v1/deployments/{_seg(deployment_id)}", Deployment)

    async def list_deployments(
        self, *, project_id: str | None = None, service_id: str | None = None
    ) -> list[Deployment]:
        """`GET /v1/deployments/?project_id=…` (records wrapped under `.data[]`)."""
        params = {k: v for k, v in (("project_id", project_id), ("service_id", service_id)) if v}
        deployments = await self._get_list("v1/deployments/", Deployment, params=params)
        if service_id:
            deployments = [d for d in deployments if d.service_id in ("", service_id)]
        return deployments

    async def project_deployments(
        self, project_id: str, *, status: str | None = None
    ) -> list[Deployment]:
        """`GET /v1/projects/:id/deployments/?status=…` (e.g. the last `success` for rollback)."""
        params = {"status": status} if status else None
        return await self._get_list(
            f"v1/projects/{_seg(project_id)}/deployments/", Deployment, params=params
        )

    async def deployment_logs(
        self, deployment_id: str, *, tail: int | None = None, since: str | None = None
    ) -> DeploymentLogs:
        params = {k: v for k, v in (("tail", tail), ("since", since)) if v is not None}
        return await self._get_model(
            f"v1/deployments/{_seg(deployment_id)}/logs",
            DeploymentLogs,
            params={k: str(v) for k, v in params.items()},
        )

    async def stream_deployment_logs(self, deployment_id: str) -> AsyncIterator[SseEvent]:
        """`GET /v1/deployments/:id/logs/stream` (SSE), one event at a time until it closes.

        A stream is long-lived, so it does not hold one of the `max_in_flight` slots.
        """
        path = f"v1/deployments/{_seg(deployment_id)}/logs/stream"
        request = self._build(_Call("GET", path), accept="text/event-stream")
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self._transport_error(exc, "GET", path) from exc
        try:
            if response.status_code in _REDIRECT_STATUSES:
                raise RedirectRefused(
                    f"GET /{path} was redirected; odplan does not follow stream redirects",
                    location=response.headers.get("location", ""),
                )
            if not response.is_success:
                await response.aread()
                raise self._api_error(response, _Call("GET", path))
            async for event in _parse_sse(response.aiter_lines()):
                yield event
        except httpx.TransportError as exc:
            raise self._transport_error(exc, "GET", path) from exc
        finally:
            await response.aclose()

    async def cancel_deployment(self, deployment_id: str) -> Acknowledgement:
        """`POST /v1/deployments/:id/cancel`. Cancelling twice is harmless, so it retries."""
        response = await self._send(
            _Call("POST", f"v1/deployments/{_seg(deployment_id)}/cancel", idempotent=True)
        )
        return self._parse_ack(response)

    async def rollback_deployment(self, deployment_id: str) -> Acknowledgement:
        response = await self._send(_Call("POST", f"v1/deployments/{_seg(deployment_id)}/rollback"))
        return self._parse_ack(response)

    # --- domains --------------------------------------------------------------------------------

    async def list_service_domains(
        self, service_id: str, *, environment: str | None = None, type: str | None = None
    ) -> list[ServiceDomain]:
        params = {"service_id": service_id}
        if environment:
            params["environment"] = environment
        if type:
            params["type"] = type
        return await self._get_list("v1/service-domains/", ServiceDomain, params=params)

    async def check_subdomain(self, subdomain: str) -> SubdomainCheck:
        return await self._get_model(
            f"v1/service-domains/check-subdomain/{_seg(subdomain)}", SubdomainCheck
        )

    async def rename_subdomain(self, domain_id: str, subdomain: str) -> ServiceDomain:
        """`PUT /v1/service-domains/:id/subdomain` (no redeploy needed)."""
        response = await self._send(
            _Call(
                "PUT",
                f"v1/service-domains/{_seg(domain_id)}/subdomain",
                json_body={"subdomain": subdomain},
                idempotent=True,
            )
        )
        return self._parse(response, ServiceDomain)

    async def retry_domain(self, domain_id: str) -> Acknowledgement:
        response = await self._send(
            _Call("POST", f"v1/service-domains/{_seg(domain_id)}/retry", idempotent=True)
        )
        return self._parse_ack(response)

    async def billing_quota(self) -> Quota:
        return await self._get_model("v1/billing/quota", Quota)

    # --- finders: reconcile by reading after an ambiguous create --------------------------------

    async def find_project_by_name(self, name: str) -> Project | None:
        return next((p for p in await self.list_projects() if p.name == name), None)

    async def find_service_by_name(self, project_id: str, name: str) -> Service | None:
        return next((s for s in await self.list_services(project_id) if s.name == name), None)

    async def find_dependency(
        self, project_id: str, *, type: str | None = None, name: str | None = None
    ) -> Dependency | None:
        """The project's dependency matching `type` and/or `name` (or display name)."""
        for dependency in (await self.dependency_status(project_id)).dependencies:
            if type is not None and type not in (dependency.type, dependency.dependency_id):
                continue
            if name is not None and name not in (dependency.name, dependency.display_name):
                continue
            return dependency
        return None

    async def find_deployment_by_description(
        self, service_id: str, marker: str, *, project_id: str | None = None
    ) -> Deployment | None:
        """The newest deployment of a service whose `description` contains `marker`."""
        deployments = await self.list_deployments(project_id=project_id, service_id=service_id)
        matching = [d for d in deployments if marker in d.description]
        matching.sort(key=lambda d: d.created_at, reverse=True)
        return matching[0] if matching else None

    # --- the request engine ---------------------------------------------------------------------

    async def _get_model(
        self, path: str, model: type[ModelT], *, params: Mapping[str, str] | None = None
    ) -> ModelT:
        response = await self._send(_Call("GET", path, params=params, idempotent=True))
        return self._parse(response, model)

    async def _get_list(
        self, path: str, model: type[ModelT], *, params: Mapping[str, str] | None = None
    ) -> list[ModelT]:
        response = await self._send(_Call("GET", path, params=params or None, idempotent=True))
        items = _unwrap_list(self._json(response))
        if items is None:
            raise InvalidResponse(f"GET /{path}: expected a list in the gateway's answer")
        return [self._validate(item, model, response) for item in items]

    async def _send(self, call: _Call) -> httpx.Response:
        retry_number = 0
        while True:
            try:
                response = await self._attempt(call, retry_number)
            except GatewayTransportError as error:
                retry_safe = call.idempotent or not error.request_sent
                if retry_safe and retry_number < self.retry.max_retries:
                    await self._sleep(self.retry.delay(retry_number, self._rng))
                    retry_number += 1
                    continue
                if not retry_safe:
                    raise OutcomeUnknown(
                        f"{call.method} /{call.path}: outcome unknown ({error.message})",
                        method=call.method,
                        path="/" + call.path,
                        cause=error,
                    ) from error
                raise
            if response.is_success:
                return response
            api_error = self._api_error(response, call)
            if isinstance(api_error, RateLimited) and call.retry_rate_limit:
                wait = api_error.retry_after
                if retry_number < self.retry.max_retries and (
                    wait is None or wait <= self.retry.max_retry_after
                ):
                    await self._sleep(
                        wait if wait is not None else self.retry.delay(retry_number, self._rng)
                    )
                    retry_number += 1
                    continue
            if isinstance(api_error, ServerError):
                if call.idempotent and retry_number < self.retry.max_retries:
                    await self._sleep(self.retry.delay(retry_number, self._rng))
                    retry_number += 1
                    continue
                if not call.idempotent:
                    raise OutcomeUnknown(
                        f"{call.method} /{call.path}: outcome unknown ({api_error.message})",
                        method=call.method,
                        path="/" + call.path,
                        cause=api_error,
                    ) from api_error
            raise api_error

    async def _attempt(self, call: _Call, attempt: int) -> httpx.Response:
        started = time.monotonic()
        status: int | None = None
        failure: str | None = None
        try:
            async with self._slots:
                response = await self._send_following_redirects(call)
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

    async def _send_following_redirects(self, call: _Call) -> httpx.Response:
        request = self._build(call)
        for _ in range(_MAX_REDIRECTS + 1):
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                raise self._transport_error(exc, call.method, call.path) from exc
            if response.status_code not in _REDIRECT_STATUSES:
                return response
            location = response.headers.get("location", "")
            target = response.url.join(location)
            await response.aclose()
            if call.method not in ("GET", "HEAD"):
                raise RedirectRefused(
                    f"{call.method} /{call.path} was redirected (HTTP {response.status_code}) "
                    f"to {_safe_url(target)}; odplan does not re-send a request body",
                    location=_safe_url(target),
                )
            if _origin(target) != self._origin:
                raise RedirectRefused(
                    f"GET /{call.path} was redirected to another origin "
                    f"({_safe_url(target)}); not followed, the token was not sent there",
                    location=_safe_url(target),
                )
            request = self._http.build_request(call.method, target)
            if call.anonymous:
                request.headers.pop("Authorization", None)
            else:
                self._authorize(request)
        raise RedirectRefused(
            f"{call.method} /{call.path}: more than {_MAX_REDIRECTS} redirects",
            location=_safe_url(request.url),
        )

    def _build(self, call: _Call, *, accept: str | None = None) -> httpx.Request:
        files: list[tuple[str, Any]] | None = None
        data = call.form
        if call.form is not None:
            # The upload endpoint is multipart/form-data even without a file (the Git form):
            # `(None, value)` parts make httpx encode plain fields as multipart too.
            files = [(name, (None, value)) for name, value in call.form.items()]
            data = None
        if call.file_field is not None:
            field_name, filename, handle = call.file_field
            if _seekable(handle):
                handle.seek(0)
            files = [*(files or []), (field_name, (filename, handle, "application/zip"))]
        request = self._http.build_request(
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
            self._authorize(request)
        return request

    def _authorize(self, request: httpx.Request) -> None:
        if self._api_key and _origin(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._api_key}"

    def _transport_error(
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

    def _api_error(self, response: httpx.Response, call: _Call) -> ApiError:
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        secrets = (*call.secrets, *((self._api_key,) if self._api_key else ()))
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

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except (ValueError, json.JSONDecodeError) as exc:
            raise InvalidResponse(
                f"{response.request.method} {response.request.url.path}: the gateway answered "
                f"HTTP {response.status_code} with a body that is not JSON"
            ) from exc

    def _parse(self, response: httpx.Response, model: type[ModelT]) -> ModelT:
        return self._validate(self._json(response), model, response)

    def _parse_ack(self, response: httpx.Response) -> Acknowledgement:
        if not response.content:
            return Acknowledgement()
        payload = self._json(response)
        return self._validate(
            payload if isinstance(payload, dict) else {}, Acknowledgement, response
        )

    def _validate(self, payload: Any, model: type[ModelT], response: httpx.Response) -> ModelT:
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


def _seg(value: str) -> str:
    """One URL path segment: refuses `/` and empty ids so a bad id cannot change the route."""
    if not value or "/" in value or value in (".", ".."):
        raise ValueError(f"invalid identifier in a gateway path: {value!r}")
    return quote(value, safe="-._~")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port or default_port)


def _safe_url(url: httpx.URL) -> str:
    """A URL without userinfo or query, fit for a message."""
    return str(url.copy_with(query=None, fragment=None, username=None, password=None))


def _seekable(handle: IO[bytes]) -> bool:
    try:
        return bool(handle.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _secret_values(spec: Mapping[str, Any]) -> tuple[str, ...]:
    values: list[str] = []
    for key, value in spec.items():
        if key in _SECRET_BODY_KEYS | _SECRET_FORM_FIELDS:
            if isinstance(value, Mapping):
                values.extend(str(v) for v in value.values())
            elif isinstance(value, str):
                values.append(value)
    return tuple(values)


def _unwrap_list(payload: Any) -> list[Any] | None:
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


async def _parse_sse(lines: AsyncIterator[str]) -> AsyncIterator[SseEvent]:
    """Server-sent events from a line iterator (the text/event-stream wire format)."""
    event, event_id = "message", None
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r")
        if line == "":
            if data:
                yield SseEvent(event=event, data="\n".join(data), id=event_id)
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value or "message"
        elif name == "id":
            event_id = value
    if data:
        yield SseEvent(event=event, data="\n".join(data), id=event_id)
