"""The gateway's API as methods: one per documented route, typed in and out.

This room is an index of the API and nothing else: how a request is sent, retried,
redirected, authorized and parsed lives in `_engine`, and whether to retry in `_retry`.
Idempotent requests (GET, PUT, DELETE and the few POSTs that are safe to repeat) are marked as
such here; creates never retry after an ambiguous failure and raise `OutcomeUnknown` so the
caller reconciles by reading first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx

from opendeploy_plan.gateway._bodies import omit_unknown, secret_values
from opendeploy_plan.gateway._engine import Call, RequestEngine, RequestRecord, seekable
from opendeploy_plan.gateway._errors import GatewayError
from opendeploy_plan.gateway._models import (
    Acknowledgement,
    BuildLogLine,
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
from opendeploy_plan.gateway._retry import RetryNotice, RetryPolicy
from opendeploy_plan.gateway._streams import build_log_lines
from opendeploy_plan.timestamps import timestamp_order


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
        on_retry: Callable[[RetryNotice], None] | None = None,
        deadline: float | None = None,
    ) -> None:
        """`on_retry` hears of every retry before its wait (a CLI prints it: the gateway
        package never prints); `sleep` is injectable so tests need not wait out backoffs."""
        self._engine = RequestEngine(
            base_url,
            api_key,
            transport=transport,
            timeout=timeout,
            retry=retry,
            max_in_flight=max_in_flight,
            on_request=on_request,
            bind_url=bind_url,
            user_agent=user_agent,
            sleep=sleep,
            on_retry=on_retry,
            deadline=deadline,
        )

    def __repr__(self) -> str:
        return f"GatewayClient({self.base_url!r})"

    @property
    def base_url(self) -> str:
        return self._engine.base_url

    @property
    def retry(self) -> RetryPolicy:
        return self._engine.retry

    @property
    def bind_url(self) -> str | None:
        return self._engine.bind_url

    @property
    def max_in_flight(self) -> int:
        return self._engine.max_in_flight

    @property
    def has_credential(self) -> bool:
        return bool(self._engine.api_key)

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._engine.aclose()

    # --- preamble, credentials ------------------------------------------------------------------

    async def regions(self) -> list[Region]:
        """`GET /v1/regions/`: the auth sanity check that works for every token kind."""
        return await self._engine.get_list("v1/regions/", Region)

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
        return await self._engine.get_model("v1/profile", Profile)

    async def register_guest(
        self, *, source_hint: str, name: str = "opendeploy local deploy"
    ) -> GuestRegistration:
        """`POST /v1/client-guests/register` (anonymous). A 429 is raised, never retried."""
        response = await self._engine.send(
            Call(
                "POST",
                "v1/client-guests/register",
                json_body={"source_hint": source_hint, "name": name},
                anonymous=True,
                retry_rate_limit=False,
            )
        )
        return self._engine.parse(response, GuestRegistration)

    # --- projects -------------------------------------------------------------------------------

    async def list_projects(self) -> list[Project]:
        return await self._engine.get_list("v1/projects/", Project)

    async def get_project(self, project_id: str) -> Project:
        return await self._engine.get_model(f"v1/projects/{_seg(project_id)}", Project)

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
        response = await self._engine.send(Call("POST", "v1/projects/", json_body=body))
        return self._engine.parse(response, Project)

    async def delete_project(self, project_id: str) -> None:
        await self._engine.send(Call("DELETE", f"v1/projects/{_seg(project_id)}", idempotent=True))

    # --- services -------------------------------------------------------------------------------

    async def create_service(self, project_id: str, spec: Mapping[str, Any]) -> ServiceCreated:
        """`POST /v1/projects/:id/services/` with the full spec (env pre-merged)."""
        response = await self._engine.send(
            Call(
                "POST",
                f"v1/projects/{_seg(project_id)}/services/",
                json_body=dict(spec),
                secrets=secret_values(spec),
            )
        )
        return self._engine.parse(response, ServiceCreated)

    async def list_services(self, project_id: str) -> list[Service]:
        return await self._engine.get_list(f"v1/projects/{_seg(project_id)}/services/", Service)

    async def get_service(self, service_id: str) -> Service:
        return await self._engine.get_model(f"v1/services/{_seg(service_id)}", Service)

    async def update_service(self, service_id: str, fields: Mapping[str, Any]) -> Service:
        """`PUT /v1/services/:id`: partial update, e.g. resources (no redeploy needed)."""
        response = await self._engine.send(
            Call(
                "PUT",
                f"v1/services/{_seg(service_id)}",
                json_body=dict(fields),
                idempotent=True,
                secrets=secret_values(fields),
            )
        )
        return self._engine.parse(response, Service)

    async def delete_service(self, service_id: str) -> None:
        """`DELETE /v1/services/:id` (not in the skill's docs; needed to replace a service)."""
        await self._engine.send(Call("DELETE", f"v1/services/{_seg(service_id)}", idempotent=True))

    async def get_env(self, project_id: str, service_id: str) -> EnvVars:
        return await self._engine.get_model(
            f"v1/projects/{_seg(project_id)}/services/{_seg(service_id)}/env", EnvVars
        )

    async def replace_env(
        self, project_id: str, service_id: str, variables: Mapping[str, str]
    ) -> EnvVars:
        """`PUT …/env`: a full replace; keys missing from `variables` are removed."""
        response = await self._engine.send(
            Call(
                "PUT",
                f"v1/projects/{_seg(project_id)}/services/{_seg(service_id)}/env",
                json_body={"variables": dict(variables)},
                idempotent=True,
                secrets=tuple(variables.values()),
            )
        )
        return self._engine.parse(response, EnvVars)

    async def service_logs(
        self, project_id: str, service_id: str, *, tail: int | None = None
    ) -> ServiceLogs:
        params = {"tail": str(tail)} if tail is not None else None
        response = await self._engine.send(
            Call(
                "GET",
                f"v1/projects/{_seg(project_id)}/services/{_seg(service_id)}/logs",
                params=params,
                idempotent=True,
            )
        )
        payload = self._engine.json(response)
        if isinstance(payload, list):
            payload = {"logs": payload}
        return self._engine.validate(payload, ServiceLogs, response)

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
        response = await self._engine.send(Call("POST", "v1/dependencies/create", json_body=body))
        return self._engine.parse(response, Dependency)

    async def dependency_status(self, project_id: str) -> DependencyStatus:
        response = await self._engine.send(
            Call("GET", f"v1/dependencies/status/{_seg(project_id)}", idempotent=True)
        )
        payload = self._engine.json(response)
        if isinstance(payload, list):
            payload = {"dependencies": payload}
        return self._engine.validate(payload, DependencyStatus, response)

    async def delete_dependency(self, project_id: str, dependency_instance_id: str) -> None:
        await self._engine.send(
            Call(
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
        rewindable = seekable(handle)
        response = await self._engine.send(
            Call(
                "POST",
                "v1/upload/upload-only",
                form=form,
                file_field=("project_file", filename, handle),
                idempotent=rewindable,
            )
        )
        return self._engine.parse(response, UploadResult)

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
        response = await self._engine.send(
            Call(
                "POST",
                "v1/upload/upload-only",
                form=form,
                idempotent=True,
                secrets=(git_token,) if git_token else (),
            )
        )
        return self._engine.parse(response, UploadResult)

    async def update_source(
        self, project_id: str, temp_file_path: str, *, analysis: Mapping[str, Any] | None = None
    ) -> SourceUpdate:
        """`POST /v1/upload/update-source`: bind the parked archive to the project (required).

        Binding the same temp file twice is harmless ("already up to date"), so it retries.
        Unknown analysis values (`""`, `None`, `port: 0`) are left out, never sent: the docs
        say to omit what is not known.
        """
        body: dict[str, Any] = {"project_id": project_id, "temp_file_path": temp_file_path}
        if analysis is not None:
            body["analysis"] = omit_unknown(analysis)
        response = await self._engine.send(
            Call("POST", "v1/upload/update-source", json_body=body, idempotent=True)
        )
        return self._engine.parse(response, SourceUpdate)

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
        response = await self._engine.send(Call("POST", "v1/deployments/", json_body=body))
        return self._engine.parse(response, Deployment)

    async def get_deployment(self, deployment_id: str) -> Deployment:
        """`GET /v1/deployments/:id`, the canonical status poll (the `/status` alias 404s)."""
        return await self._engine.get_model(f"v1/deployments/{_seg(deployment_id)}", Deployment)

    async def list_deployments(
        self, *, project_id: str | None = None, service_id: str | None = None
    ) -> list[Deployment]:
        """`GET /v1/deployments/?project_id=…` (records wrapped under `.data[]`)."""
        params = {k: v for k, v in (("project_id", project_id), ("service_id", service_id)) if v}
        deployments = await self._engine.get_list("v1/deployments/", Deployment, params=params)
        if service_id:
            deployments = [d for d in deployments if d.service_id in ("", service_id)]
        return deployments

    async def project_deployments(
        self, project_id: str, *, status: str | None = None
    ) -> list[Deployment]:
        """`GET /v1/projects/:id/deployments?status=…` (e.g. the last `success` for rollback).

        Slashless, as operate.md writes it (unlike the `/v1/deployments/` collection).
        """
        params = {"status": status} if status else None
        response = await self._engine.send(
            Call(
                "GET",
                f"v1/projects/{_seg(project_id)}/deployments",
                params=params,
                operation="listing a project's deployments",
            )
        )
        return self._engine.parse_list(response, Deployment)

    async def deployment_logs(
        self, deployment_id: str, *, tail: int | None = None, since: str | None = None
    ) -> DeploymentLogs:
        params = {k: v for k, v in (("tail", tail), ("since", since)) if v is not None}
        return await self._engine.get_model(
            f"v1/deployments/{_seg(deployment_id)}/logs",
            DeploymentLogs,
            params={k: str(v) for k, v in params.items()},
        )

    async def stream_deployment_logs(self, deployment_id: str) -> AsyncIterator[SseEvent]:
        """`GET /v1/deployments/:id/logs/stream` (SSE), one event at a time until it closes."""
        async for event in self._engine.stream_sse(
            f"v1/deployments/{_seg(deployment_id)}/logs/stream"
        ):
            yield event

    async def stream_build_logs(self, deployment_id: str) -> AsyncIterator[BuildLogLine]:
        """`GET /v1/deployments/:id/build-logs/stream`, a WebSocket (the authoritative build
        log): one line at a time until an end message or the server closes.

        A server that answers the upgrade with plain HTTP (an older gateway serving SSE there)
        is read again as server-sent events, so either answer works. Consume it to the end or
        under `contextlib.aclosing`.
        """
        path = f"v1/deployments/{_seg(deployment_id)}/build-logs/stream"
        async with contextlib.aclosing(build_log_lines(self._engine, path)) as lines:
            async for line in lines:
                yield line

    async def cancel_deployment(self, deployment_id: str) -> Acknowledgement:
        """`POST /v1/deployments/:id/cancel`. Cancelling twice is harmless, so it retries."""
        response = await self._engine.send(
            Call("POST", f"v1/deployments/{_seg(deployment_id)}/cancel", idempotent=True)
        )
        return self._engine.parse_ack(response)

    async def rollback_deployment(self, deployment_id: str) -> Acknowledgement:
        response = await self._engine.send(
            Call("POST", f"v1/deployments/{_seg(deployment_id)}/rollback")
        )
        return self._engine.parse_ack(response)

    # --- domains --------------------------------------------------------------------------------

    async def list_service_domains(
        self, service_id: str, *, environment: str | None = None, type: str | None = None
    ) -> list[ServiceDomain]:
        params = {"service_id": service_id}
        if environment:
            params["environment"] = environment
        if type:
            params["type"] = type
        # Slashless, as api-schemas.md 8.2 and domain.md write it.
        response = await self._engine.send(
            Call(
                "GET", "v1/service-domains", params=params, operation="listing a service's domains"
            )
        )
        return self._engine.parse_list(response, ServiceDomain)

    async def check_subdomain(self, subdomain: str) -> SubdomainCheck:
        return await self._engine.get_model(
            f"v1/service-domains/check-subdomain/{_seg(subdomain)}", SubdomainCheck
        )

    async def rename_subdomain(self, domain_id: str, subdomain: str) -> ServiceDomain:
        """`PUT /v1/service-domains/:id/subdomain` (no redeploy needed)."""
        response = await self._engine.send(
            Call(
                "PUT",
                f"v1/service-domains/{_seg(domain_id)}/subdomain",
                json_body={"subdomain": subdomain},
                idempotent=True,
            )
        )
        return self._engine.parse(response, ServiceDomain)

    async def retry_domain(self, domain_id: str) -> Acknowledgement:
        response = await self._engine.send(
            Call("POST", f"v1/service-domains/{_seg(domain_id)}/retry", idempotent=True)
        )
        return self._engine.parse_ack(response)

    async def billing_quota(self) -> Quota:
        return await self._engine.get_model("v1/billing/quota", Quota)

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
        matching.sort(key=lambda d: timestamp_order(d.created_at), reverse=True)
        return matching[0] if matching else None


def _seg(value: str) -> str:
    """One URL path segment: refuses `/` and empty ids so a bad id cannot change the route."""
    if not value or "/" in value or value in (".", ".."):
        raise ValueError(f"invalid identifier in a gateway path: {value!r}")
    return quote(value, safe="-._~")
