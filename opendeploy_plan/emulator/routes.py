"""The documented gateway routes (`/api/v1/...`): thin handlers that authenticate, call the
simulated platform and shape the documented response."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response, WebSocket
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.websockets import WebSocketDisconnect

from opendeploy_plan.emulator import models as m
from opendeploy_plan.emulator.errors import PlatformError
from opendeploy_plan.emulator.multipart import ZIP_MAGIC, read_upload
from opendeploy_plan.emulator.state import Emulator, Principal

STREAM_POLL_SECONDS = 0.1
STREAM_MAX_SECONDS = 600.0
BUILD_LOG_SOCKET_DOC = (
    "WebSocket. One JSON text message per log line: "
    '`{"type": "log", "timestamp", "level", "phase", "message"}`; then '
    '`{"type": "end", "status": "<terminal status>"}` and a normal close (1000)'
)

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": m.ErrorBody} for code in (400, 401, 403, 404, 409)
}


def emulator_of(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


Emu = Annotated[Emulator, Depends(emulator_of)]


def principal(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    return emulator_of(request).authenticate(authorization)


Who = Annotated[Principal, Depends(principal)]

router = APIRouter(prefix="/api/v1", responses=ERRORS)

_SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
        "description": "`event: log` per line, then `event: end` with the final status",
    }
}


def client_ip(request: Request, emulator: Emulator) -> str:
    if emulator.config.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


# --- client guests ----------------------------------------------------------------------------


@router.post(
    "/client-guests/register",
    response_model=m.RegisterResponse,
    response_model_exclude_none=True,
    tags=["client-guests"],
    responses={429: {"model": m.ErrorBody}},
)
def register(request: Request, emu: Emu, body: m.RegisterRequest | None = None) -> Any:
    payload = body.model_dump() if body else {}
    return emu.register(client_ip(request, emu), request.headers.get("user-agent", ""), payload)


@router.get(
    "/client-guests/{guest_id}/status", response_model=m.GuestStatus, tags=["client-guests"]
)
def guest_status(guest_id: str, emu: Emu, h: Annotated[str, Query()] = "") -> Any:
    return emu.guest_status(guest_id, h)


@router.post(
    "/client-guests/{guest_id}/bind", response_model=m.BindResponse, tags=["client-guests"]
)
def bind_guest(guest_id: str, body: m.BindRequest, emu: Emu, who: Who) -> Any:
    if who.kind != "dashboard":
        raise PlatformError(401, "binding needs the dashboard's signed-in session")
    return emu.bind_guest(guest_id, who.user_id, sig=body.sig, name=body.name)


@router.get("/client-guests", response_model=m.GuestList, tags=["client-guests"])
def list_guests(emu: Emu, who: Who) -> Any:
    items = emu.list_guests(who)
    return {"data": items, "total": len(items)}


@router.patch("/client-guests/{guest_id}", response_model=m.GuestItem, tags=["client-guests"])
def patch_guest(guest_id: str, body: m.GuestPatch, emu: Emu, who: Who) -> Any:
    return emu.patch_guest(who, guest_id, body.name)


@router.delete("/client-guests/{guest_id}", tags=["client-guests"])
def delete_guest(guest_id: str, emu: Emu, who: Who) -> dict[str, str]:
    return emu.delete_guest(who, guest_id)


@router.get("/profile", response_model=m.Profile, tags=["account"])
def profile(emu: Emu, who: Who) -> Any:
    return emu.profile(who)


@router.get("/billing/quota", response_model=m.Quota, tags=["account"])
def billing_quota(emu: Emu, who: Who) -> Any:
    return emu.quota(who)


@router.api_route(
    "/billing/{rest:path}",
    methods=["GET", "POST", "PUT", "DELETE"],
    tags=["account"],
    include_in_schema=False,
)
def billing_other(rest: str, emu: Emu, who: Who) -> Any:
    emu.require_bound(who)
    raise PlatformError(404, f"billing route {rest!r} not found")


# --- regions, projects --------------------------------------------------------------------


@router.get("/regions/", response_model=list[m.Region], tags=["regions"])
def regions(emu: Emu, who: Who) -> Any:
    return emu.regions()


@router.post("/projects/", status_code=201, response_model=m.Project, tags=["projects"])
def create_project(body: m.ProjectCreate, emu: Emu, who: Who) -> Any:
    return emu.create_project(who, body.model_dump())


@router.get("/projects/", response_model=m.ProjectList, tags=["projects"])
def list_projects(emu: Emu, who: Who) -> Any:
    items = emu.list_projects(who)
    return {"data": items, "total": len(items)}


@router.get("/projects/{project_id}", response_model=m.Project, tags=["projects"])
def get_project(project_id: str, emu: Emu, who: Who) -> Any:
    return emu.get_project(who, project_id)


@router.delete("/projects/{project_id}", response_model=m.Message, tags=["projects"])
def delete_project(project_id: str, emu: Emu, who: Who) -> Any:
    emu.delete_project(who, project_id)
    return {"message": "Project deleted successfully"}


@router.get(
    "/projects/{project_id}/deployments/", response_model=m.DeploymentList, tags=["deployments"]
)
def project_deployments(project_id: str, emu: Emu, who: Who, status: str | None = None) -> Any:
    items = emu.list_deployments(who, project_id, status)
    return {"data": items, "total": len(items)}


# --- services -------------------------------------------------------------------------------


@router.post(
    "/projects/{project_id}/services/",
    status_code=201,
    response_model=m.ServiceCreated,
    tags=["services"],
)
def create_service(project_id: str, body: m.ServiceCreate, emu: Emu, who: Who) -> Any:
    sid = emu.create_service(who, project_id, body.model_dump())
    return {"message": "Service created successfully", "service_id": sid}


@router.get("/projects/{project_id}/services/", response_model=m.ServiceList, tags=["services"])
def list_services(project_id: str, emu: Emu, who: Who) -> Any:
    items = emu.list_services(who, project_id)
    return {"data": items, "total": len(items)}


@router.get("/services/{service_id}", response_model=m.Service, tags=["services"])
def get_service(service_id: str, emu: Emu, who: Who) -> Any:
    return emu.get_service(who, service_id)


@router.put("/services/{service_id}", response_model=m.Service, tags=["services"])
def update_service(service_id: str, body: m.ServiceUpdate, emu: Emu, who: Who) -> Any:
    return emu.update_service(who, service_id, body.model_dump(exclude_unset=True))


@router.delete("/services/{service_id}", response_model=m.Message, tags=["services"])
def delete_service(service_id: str, emu: Emu, who: Who) -> Any:
    emu.delete_service(who, service_id)
    return {"message": "Service deleted successfully"}


@router.get(
    "/projects/{project_id}/services/{service_id}/env",
    response_model=m.EnvResponse,
    tags=["services"],
)
def get_env(project_id: str, service_id: str, emu: Emu, who: Who) -> Any:
    return emu.get_env(who, project_id, service_id)


@router.put(
    "/projects/{project_id}/services/{service_id}/env",
    response_model=m.EnvResponse,
    tags=["services"],
)
def put_env(project_id: str, service_id: str, body: m.EnvPut, emu: Emu, who: Who) -> Any:
    return emu.put_env(who, project_id, service_id, body.variables)


@router.get(
    "/projects/{project_id}/services/{service_id}/logs",
    response_model=m.ServiceLogs,
    tags=["services"],
)
def service_logs(project_id: str, service_id: str, emu: Emu, who: Who) -> Any:
    return emu.service_logs(who, project_id, service_id)


@router.get(
    "/projects/{project_id}/services/{service_id}/logs/stream",
    tags=["services"],
    response_class=StreamingResponse,
    responses=_SSE_DOC,
)
def service_log_stream(project_id: str, service_id: str, emu: Emu, who: Who) -> StreamingResponse:
    """Container logs as server-sent events: what is there now, then `event: end`."""
    logs = emu.service_logs(who, project_id, service_id)["logs"]

    async def events() -> AsyncIterator[bytes]:
        for line in logs:
            yield f"event: log\ndata: {json.dumps(line)}\n\n".encode()
        yield b"event: end\ndata: {}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


# --- dependencies --------------------------------------------------------------------------


@router.post("/dependencies/create", response_model=m.Dependency, tags=["dependencies"])
def create_dependency(body: m.DependencyCreate, emu: Emu, who: Who) -> Any:
    return emu.create_dependency(who, body.model_dump())


@router.get(
    "/dependencies/status/{project_id}", response_model=m.DependencyStatus, tags=["dependencies"]
)
def dependency_status(project_id: str, emu: Emu, who: Who) -> Any:
    return emu.dependency_status(who, project_id)


@router.delete(
    "/dependencies/{project_id}/{dependency_id}", response_model=m.Message, tags=["dependencies"]
)
def delete_dependency(project_id: str, dependency_id: str, emu: Emu, who: Who) -> Any:
    emu.delete_dependency(who, project_id, dependency_id)
    return {"message": "Dependency deleted successfully"}


# --- upload ---------------------------------------------------------------------------------

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["project_name", "region_id"],
                    "properties": {
                        "project_name": {"type": "string"},
                        "description": {"type": "string"},
                        "region_id": {"type": "string", "format": "uuid"},
                        "project_file": {
                            "type": "string",
                            "format": "binary",
                            "description": "ZIP only; tar/tar.gz is rejected",
                        },
                        "git_url": {"type": "string"},
                        "git_token": {"type": "string"},
                        "branch": {"type": "string"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/upload/upload-only",
    response_model=m.UploadResponse,
    tags=["upload"],
    openapi_extra=_UPLOAD_BODY,
)
async def upload_only(request: Request, emu: Emu, who: Who) -> Any:
    limit = emu.config.max_upload_bytes
    declared = request.headers.get("content-length", "")
    # The form's own fields and boundaries add a little to the file.
    if declared.isdigit() and int(declared) > limit + 1024**2:
        raise PlatformError(400, f"uploaded file too large: the limit is {limit // 1024**2} MiB")
    created: list[Path] = []

    def open_file(filename: str) -> Path:
        path = emu.new_upload_path(filename)
        created.append(path)
        return path

    try:
        form = await read_upload(
            request.headers.get("content-type", ""),
            request.stream(),
            "project_file",
            open_file,
            limit,
        )
        _check_archive(form.file_path, form.filename, form.head, form.fields)
        emu.check_upload_form(who, form.fields)
        if form.file_path is None:
            form.file_path = open_file("git-source.zip")
        return emu.record_upload(who, form.file_path, form.filename, form.size, form.fields)
    except BaseException:
        # Nothing of a refused upload stays on disk (a 3 GiB body stops at the cap).
        for path in created:
            shutil.rmtree(path.parent, ignore_errors=True)
        raise


def _check_archive(path: Any, filename: str, head: bytes, fields: dict[str, str]) -> None:
    if path is None:
        if not fields.get("git_url"):
            raise PlatformError(400, "either project_file or git_url is required")
        return
    if not head.startswith(ZIP_MAGIC):
        lowered = filename.lower()
        kind = "tar" if lowered.endswith((".tar", ".tar.gz", ".tgz")) else "this file type"
        raise PlatformError(
            400,
            f"unsupported archive: {kind} is rejected, upload a ZIP file "
            "(the backend reads archive/zip only)",
        )
    if not zipfile.is_zipfile(path):
        raise PlatformError(400, "uploaded file is not a valid ZIP archive")


@router.post("/upload/update-source", response_model=m.UpdateSourceResponse, tags=["upload"])
def update_source(body: m.UpdateSource, emu: Emu, who: Who) -> Any:
    return emu.update_source(who, body.project_id, body.temp_file_path, body.analysis)


# --- deployments ----------------------------------------------------------------------------


@router.post("/deployments/", status_code=201, response_model=m.Deployment, tags=["deployments"])
def create_deployment(body: m.DeploymentCreate, emu: Emu, who: Who) -> Any:
    return emu.create_deployment(who, body.model_dump())


@router.get("/deployments/", response_model=m.DeploymentList, tags=["deployments"])
def list_deployments(
    emu: Emu,
    who: Who,
    project_id: str | None = None,
    status: str | None = None,
    service_id: str | None = None,
) -> Any:
    items = emu.list_deployments(who, project_id, status, service_id)
    return {"data": items, "total": len(items)}


@router.get("/deployments/{deployment_id}", response_model=m.Deployment, tags=["deployments"])
def get_deployment(deployment_id: str, emu: Emu, who: Who) -> Any:
    return emu.get_deployment(who, deployment_id)


@router.get(
    "/deployments/{deployment_id}/logs", response_model=m.DeploymentLogs, tags=["deployments"]
)
def deployment_logs(
    deployment_id: str, emu: Emu, who: Who, tail: int | None = None, since: str | None = None
) -> Any:
    return emu.deployment_logs(who, deployment_id, tail, since)


@router.post(
    "/deployments/{deployment_id}/cancel", response_model=m.Deployment, tags=["deployments"]
)
def cancel_deployment(deployment_id: str, emu: Emu, who: Who) -> Any:
    return emu.cancel_deployment(who, deployment_id)


@router.post(
    "/deployments/{deployment_id}/rollback",
    status_code=201,
    response_model=m.Deployment,
    tags=["deployments"],
)
def rollback_deployment(deployment_id: str, emu: Emu, who: Who) -> Any:
    return emu.rollback(who, deployment_id)


def _sse(emu: Emulator, who: Principal, deployment_id: str) -> StreamingResponse:
    emu.log_snapshot(who, deployment_id)  # 404/403 before the stream starts

    async def events() -> AsyncIterator[bytes]:
        sent = 0
        started = time.monotonic()
        while True:
            lines, terminal, status = emu.log_snapshot(who, deployment_id)
            for line in lines[sent:]:
                yield f"event: log\ndata: {json.dumps(line)}\n\n".encode()
            sent = len(lines)
            if terminal or time.monotonic() - started > STREAM_MAX_SECONDS:
                yield f"event: end\ndata: {json.dumps({'status': status})}\n\n".encode()
                return
            await asyncio.sleep(STREAM_POLL_SECONDS)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.get(
    "/deployments/{deployment_id}/logs/stream",
    tags=["deployments"],
    response_class=StreamingResponse,
    responses=_SSE_DOC,
)
def deployment_log_stream(deployment_id: str, emu: Emu, who: Who) -> StreamingResponse:
    return _sse(emu, who, deployment_id)


@router.get(
    "/deployments/{deployment_id}/build-logs/stream",
    tags=["deployments"],
    responses={
        101: {"description": BUILD_LOG_SOCKET_DOC},
        400: {"model": m.ErrorBody, "description": "not a WebSocket upgrade"},
    },
)
def build_log_stream_plain(deployment_id: str, emu: Emu, who: Who) -> Any:
    """A WebSocket (api-schemas.md: "build-logs/stream (WebSocket)"); a plain GET is a 400."""
    emu.log_snapshot(who, deployment_id)
    raise PlatformError(400, "websocket: the client is not using the websocket protocol")


@router.websocket("/deployments/{deployment_id}/build-logs/stream")
async def build_log_socket(websocket: WebSocket, deployment_id: str) -> None:
    """One JSON text message per log line (`{"type": "log", timestamp, level, phase, message}`),
    then `{"type": "end", "status": ...}` when the deployment is terminal, then a normal close.
    A bad credential or unknown deployment is refused before the upgrade with the usual JSON
    error (401/403/404)."""
    emu: Emulator = websocket.app.state.emulator
    try:
        who = emu.authenticate(websocket.headers.get("authorization"))
        emu.log_snapshot(who, deployment_id)
    except PlatformError as error:
        await websocket.send_denial_response(json_error(error))
        return
    await websocket.accept()
    sent = 0
    started = time.monotonic()
    try:
        while True:
            lines, terminal, status = emu.log_snapshot(who, deployment_id)
            for line in lines[sent:]:
                await websocket.send_text(json.dumps({"type": "log", **line}))
            sent = len(lines)
            if terminal or time.monotonic() - started > STREAM_MAX_SECONDS:
                await websocket.send_text(json.dumps({"type": "end", "status": status}))
                await websocket.close()
                return
            await asyncio.sleep(STREAM_POLL_SECONDS)
    except (WebSocketDisconnect, RuntimeError, ConnectionError):
        return  # the client went away


# --- domains ---------------------------------------------------------------------------------


@router.get("/service-domains", response_model=list[m.ServiceDomain], tags=["domains"])
def list_domains(
    emu: Emu,
    who: Who,
    service_id: str = "",
    environment: str | None = None,
    type: str | None = None,
) -> Any:
    if not service_id:
        raise PlatformError(400, "service_id is required")
    return emu.list_domains(who, service_id, environment, type)


@router.get(
    "/service-domains/",
    response_model=list[m.ServiceDomain],
    tags=["domains"],
    include_in_schema=False,
)
def list_domains_slash(
    emu: Emu,
    who: Who,
    service_id: str = "",
    environment: str | None = None,
    type: str | None = None,
) -> Any:
    return list_domains(emu, who, service_id, environment, type)


@router.post("/service-domains/", status_code=201, response_model=m.ServiceDomain, tags=["domains"])
def create_custom_domain(body: m.CustomDomainCreate, emu: Emu, who: Who) -> Any:
    return emu.create_custom_domain(who, body.model_dump())


@router.get(
    "/service-domains/check-subdomain/{subdomain}",
    response_model=m.SubdomainCheck,
    tags=["domains"],
)
def check_subdomain(subdomain: str, emu: Emu, who: Who, environment: str | None = None) -> Any:
    return emu.check_subdomain(subdomain, environment)


@router.put(
    "/service-domains/{domain_id}/subdomain", response_model=m.ServiceDomain, tags=["domains"]
)
def rename_subdomain(domain_id: str, body: m.SubdomainRename, emu: Emu, who: Who) -> Any:
    return emu.rename_subdomain(who, domain_id, body.subdomain)


@router.post("/service-domains/{domain_id}/retry", response_model=m.RetryResponse, tags=["domains"])
def retry_domain(domain_id: str, emu: Emu, who: Who) -> Any:
    return emu.retry_domain(who, domain_id)


def json_error(error: PlatformError) -> Response:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)
