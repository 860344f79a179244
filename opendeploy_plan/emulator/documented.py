"""The `documented` profile: the gateway cut down to what the seed's documents promise.

`EmulatorConfig(profile="documented")` wraps the app in `DocumentedProfile`, an ASGI layer
that sits where a stricter real gateway would: routes the documents never name answer gin's
`404 page not found`, URL forms the documents call differently are rewritten or refused, and
every successful JSON answer is projected onto the fields the documents show (file and phrase
for each choice: docs/emulator.md, "Profiles"). The resource model underneath is the same as
the default profile's; only what a client can see differs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Shape = Callable[[Any], Any]

# A deployment `description` longer than this is cut (our choice: a VARCHAR(255) column; the
# documents list the field without a limit).
DESCRIPTION_MAX_CHARS = 255

# (method or "*", path) pairs the documents never call: gin's NoRoute answer.
_UNDOCUMENTED = (
    ("DELETE", re.compile(r"^/api/v1/services/[^/]+$")),
    ("*", re.compile(r"^/api/v1/service-domains/$")),
    ("*", re.compile(r"^/api/v1/projects/[^/]+/deployments/$")),
)
# Slashless forms the documents call (operate.md: `GET /v1/projects/$PID/deployments?status=`),
# served by the slashed route inside (the default profile 301s them).
_SERVED_SLASHLESS = re.compile(r"^/api/v1/projects/[^/]+/deployments$")


def pick(*names: str) -> Shape:
    def shape(obj: Any) -> Any:
        return {k: obj[k] for k in names if k in obj} if isinstance(obj, dict) else obj

    return shape


def array_of(item: Shape) -> Shape:
    return lambda obj: [item(x) for x in obj] if isinstance(obj, list) else obj


def data_of(item: Shape) -> Shape:
    """`{"data": [...]}` (api-schemas.md: the deployment list is "wrapped under `.data[]`")."""

    def shape(obj: Any) -> Any:
        if not isinstance(obj, dict):
            return obj
        return {"data": [item(x) for x in obj.get("data") or []]}

    return shape


PROJECT = pick(
    "id", "name", "repo_url", "branch", "region_id", "created_at", "source_path", "analyze_config"
)
SERVICE_DROPPED = ("dependencies", "build_variables")


def service(obj: Any) -> Any:
    return (
        {k: v for k, v in obj.items() if k not in SERVICE_DROPPED} if isinstance(obj, dict) else obj
    )


DEPLOYMENT_CREATED = pick("id", "status", "project_id", "service_id", "environment", "created_at")
_DEPLOYMENT_FIELDS = (
    "id",
    "project_id",
    "service_id",
    "environment",
    "status",
    "progress",
    "message",
    "error_msg",
    "error_context",
    "temp_file_path",
    "description",
    "created_at",
    "completed_at",
    "runtime_logs_query",
)


def deployment(obj: Any) -> Any:
    out = pick(*_DEPLOYMENT_FIELDS)(obj)
    if isinstance(out, dict) and isinstance(out.get("description"), str):
        out["description"] = out["description"][:DESCRIPTION_MAX_CHARS]
    return out


DOMAIN = pick(
    "id",
    "service_id",
    "project_id",
    "domain",
    "environment",
    "type",
    "status",
    "ssl_enabled",
    "is_primary",
)
GUEST_ITEM = pick(
    "guest_id",
    "name",
    "hostname",
    "prefix",
    "bound_at",
    "source_ip",
    "source_user_agent",
    "last_deployed_at",
)


def _update_source(obj: Any) -> Any:
    out = pick("project_id", "source_path", "services", "message")(obj)
    if isinstance(out, dict) and isinstance(out.get("services"), list):
        out["services"] = [service(x) for x in out["services"]]
    return out


def _dependency_status(obj: Any) -> Any:
    if not isinstance(obj, dict):
        return obj
    return {"dependencies": [pick("id", "status")(x) for x in obj.get("dependencies") or []]}


_V1 = "/api/v1"
SHAPES: dict[tuple[str, str], Shape] = {
    ("POST", f"{_V1}/client-guests/register"): pick(
        "guest_id", "api_key", "gateway", "bind_sig", "name", "bind_url", "expires_in_seconds"
    ),
    ("GET", f"{_V1}/client-guests/{{guest_id}}/status"): pick(
        "guest_id", "state", "name", "hostname", "created_at", "last_deployed_at", "expires_at"
    ),
    ("POST", f"{_V1}/client-guests/{{guest_id}}/bind"): pick(
        "guest_id", "bound_at", "name", "project_ids"
    ),
    ("GET", f"{_V1}/client-guests"): data_of(GUEST_ITEM),
    ("GET", f"{_V1}/profile"): pick("id", "email", "plan"),
    ("GET", f"{_V1}/regions/"): array_of(pick("id", "name", "code", "status", "environment")),
    ("POST", f"{_V1}/projects/"): PROJECT,
    ("GET", f"{_V1}/projects/"): data_of(PROJECT),
    ("GET", f"{_V1}/projects/{{project_id}}"): PROJECT,
    ("GET", f"{_V1}/projects/{{project_id}}/deployments/"): data_of(deployment),
    ("POST", f"{_V1}/projects/{{project_id}}/services/"): pick("message", "service_id"),
    ("GET", f"{_V1}/projects/{{project_id}}/services/"): data_of(service),
    ("GET", f"{_V1}/services/{{service_id}}"): service,
    ("PUT", f"{_V1}/services/{{service_id}}"): service,
    ("POST", f"{_V1}/dependencies/create"): pick(
        "id",
        "dependency_id",
        "name",
        "display_name",
        "type",
        "status",
        "environment",
        "env_vars",
        "message",
    ),
    ("GET", f"{_V1}/dependencies/status/{{project_id}}"): _dependency_status,
    ("POST", f"{_V1}/upload/upload-only"): pick(
        "temp_file_path", "filename", "git_url", "branch", "is_git"
    ),
    ("POST", f"{_V1}/upload/update-source"): _update_source,
    ("POST", f"{_V1}/deployments/"): DEPLOYMENT_CREATED,
    ("GET", f"{_V1}/deployments/"): data_of(deployment),
    ("GET", f"{_V1}/deployments/{{deployment_id}}"): deployment,
    ("POST", f"{_V1}/deployments/{{deployment_id}}/cancel"): deployment,
    ("POST", f"{_V1}/deployments/{{deployment_id}}/rollback"): deployment,
    ("GET", f"{_V1}/service-domains"): array_of(DOMAIN),
    ("GET", f"{_V1}/service-domains/check-subdomain/{{subdomain}}"): pick("available", "reason"),
    ("PUT", f"{_V1}/service-domains/{{domain_id}}/subdomain"): DOMAIN,
    ("POST", f"{_V1}/service-domains/{{domain_id}}/retry"): pick("status"),
}

_NOT_FOUND = b"404 page not found"


class DocumentedProfile:
    """Refuse undocumented routes and URL forms; project JSON answers onto documented fields."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if any(m in ("*", method) and rx.match(path) for m, rx in _UNDOCUMENTED):
            await _not_found(send)
            return
        if _SERVED_SLASHLESS.match(path):
            scope = {**scope, "path": path + "/", "raw_path": (path + "/").encode()}
        shape = SHAPES.get((method, self._template(scope)))
        if shape is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _Projecting(send, shape))

    def _template(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return str(getattr(route, "path", ""))
        return ""


class _Projecting:
    """Buffers a successful JSON answer and sends it projected; anything else passes through."""

    def __init__(self, send: Send, shape: Shape) -> None:
        self.send = send
        self.shape = shape
        self.start: Message | None = None
        self.body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            is_json = headers.get(b"content-type", b"").startswith(b"application/json")
            if message["status"] < 300 and is_json:
                self.start = message
                return
        elif message["type"] == "http.response.body" and self.start is not None:
            self.body += message.get("body", b"")
            if message.get("more_body"):
                return
            await self._flush()
            return
        await self.send(message)

    async def _flush(self) -> None:
        assert self.start is not None
        shaped = self.shape(json.loads(self.body)) if self.body else None
        body = json.dumps(shaped, ensure_ascii=False, separators=(",", ":")).encode()
        headers = [(k, v) for k, v in self.start.get("headers", []) if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.send({**self.start, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})


async def _not_found(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(_NOT_FOUND)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _NOT_FOUND})
