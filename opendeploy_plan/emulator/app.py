"""`create_app(config)`: the gateway as an ASGI app. Routes live under `/api/v1/`, the admin
API under `/_emulator/`; ASGI middleware adds the platform's 301s and the injected faults, and
guards the server (`ServerGuard`: loopback Host names only, the admin token, body caps)."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import re
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opendeploy_plan.emulator.admin import admin_router
from opendeploy_plan.emulator.config import EmulatorConfig
from opendeploy_plan.emulator.documented import DocumentedProfile
from opendeploy_plan.emulator.errors import PlatformError, go_decode_message
from opendeploy_plan.emulator.faults import FaultBook, FaultRule, LostResponse, downstream_service
from opendeploy_plan.emulator.routes import router
from opendeploy_plan.emulator.runner import DeploymentRunner
from opendeploy_plan.emulator.runtime_bridge import LocalRunner, choose_runner
from opendeploy_plan.emulator.state import Emulator

# Collections the gateway 301-redirects to their slashed form (SKILL.md, failure-playbook).
_COLLECTION_RE = re.compile(
    r"^/api/v1/(regions|projects|deployments|projects/[^/]+/services|projects/[^/]+/deployments)$"
)


def create_app(
    config: EmulatorConfig | None = None, runner: DeploymentRunner | None = None
) -> FastAPI:
    """Build the local gateway. `app.state.emulator` is the simulated platform; `runner`
    carries deployments out (default: the clock-scripted simulation)."""
    config = config or EmulatorConfig()
    app = FastAPI(
        title="opendeploy gateway (local emulator)",
        version="1.0.3",
        description="The opendeploy gateway API as documented by the opendeploy skill, "
        "served offline by odplan. Base URL: <root>/api.",
        redirect_slashes=False,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    if runner is None and config.runtime != "simulate":
        runner = choose_runner(config)
    if config.admin_token is None and not config.admin_open:
        config.admin_token = secrets.token_urlsafe(32)
    app.state.admin_token = config.admin_token
    app.state.emulator = Emulator(config, runner)
    if isinstance(runner, LocalRunner):
        runner.bind(app.state.emulator.ctx)
    app.state.faults = FaultBook()
    if config.latency_ms:
        app.state.faults.add(
            FaultRule(kind="latency", route="/api/*", latency_ms=config.latency_ms)
        )
    if config.fail_rate:
        app.state.faults.add(
            FaultRule(
                kind="error", route="/api/*", rate=config.fail_rate, seed=config.seed, status=503
            )
        )
    app.include_router(router)
    if config.admin_enabled:
        app.include_router(admin_router)
    _install_handlers(app)
    _document_security(app)
    app.add_middleware(CrashGuard)
    app.add_middleware(SlashRedirect)
    if config.profile == "documented":
        app.add_middleware(DocumentedProfile, routes=list(router.routes))
    app.add_middleware(FaultInjector, app_ref=app, routes=list(router.routes))
    app.add_middleware(ServerGuard, config=config)
    return app


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(PlatformError)
    async def api_error(request: Request, exc: PlatformError) -> Response:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        loc = errors[0].get("loc", ()) if errors else ()
        if loc and loc[0] in ("query", "path", "header"):
            msg = str(errors[0].get("msg", "invalid"))
            return JSONResponse({"error": f"invalid {loc[0]} parameter {loc[-1]}: {msg}"}, 400)
        message = go_decode_message(_body_model(request), errors)
        return JSONResponse({"error": message}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405):
            # gin's NoRoute answer: plain text, and no 405 (a wrong method is a 404 too).
            return PlainTextResponse("404 page not found", status_code=404)
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        return JSONResponse(
            {
                "error": f"internal error: {type(exc).__name__}",
                "service": downstream_service(request.url.path),
            },
            status_code=500,
        )


_ANONYMOUS_OPERATIONS = {
    ("post", "/api/v1/client-guests/register"),
    ("get", "/api/v1/client-guests/{guest_id}/status"),
}


def _document_security(app: FastAPI) -> None:
    """Publish the Bearer scheme (the header itself is read by hand, not as a parameter)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        document.setdefault("components", {})["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "`od_k` + 43 base62 (dashboard token) or `od_a` + 43 base62 "
                "(local deploy credential)",
            }
        }
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                # Bad input is a 400 with the error envelope here, never FastAPI's 422.
                operation.get("responses", {}).pop("422", None)
                if (method, path) not in _ANONYMOUS_OPERATIONS:
                    operation["security"] = [{"bearer": []}]
                    operation.setdefault("responses", {}).setdefault(
                        "401",
                        {
                            "description": "bad or expired API key",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ErrorBody"}
                                }
                            },
                        },
                    )
        for name in ("HTTPValidationError", "ValidationError"):
            document["components"].get("schemas", {}).pop(name, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _body_model(request: Request) -> type[BaseModel] | None:
    route = request.scope.get("route")
    field = getattr(route, "body_field", None)
    annotation = getattr(getattr(field, "field_info", None), "annotation", None)
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


class CrashGuard:
    """An unexpected exception becomes a 500 naming the downstream service, and the connection
    stays usable (Starlette's own handler would re-raise and uvicorn would drop it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise
            logging.getLogger(__name__).exception("unexpected error in %s", scope["path"])
            body = {
                "error": f"internal error: {type(exc).__name__}",
                "service": downstream_service(scope["path"]),
            }
            await JSONResponse(body, status_code=500)(scope, receive, send)


class SlashRedirect:
    """`/v1/projects` -> 301 `/v1/projects/` for every collection, any method (as the gateway)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _COLLECTION_RE.match(scope["path"]):
            query = scope.get("query_string", b"").decode("latin-1")
            location = scope["path"] + "/" + (f"?{query}" if query else "")
            body = f'<a href="{location}">Moved Permanently</a>.\n\n'.encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 301,
                    "headers": [
                        (b"location", location.encode("latin-1")),
                        (b"content-type", b"text/html; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class FaultInjector:
    """Counts requests per `METHOD /route/{template}` and applies the active fault rules."""

    def __init__(self, app: ASGIApp, app_ref: FastAPI, routes: list[BaseRoute]) -> None:
        self.app = app
        self.root = app_ref
        self.routes = routes

    def _template(self, scope: Scope) -> str:
        partial = None
        for route in self.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return str(getattr(route, "path", scope["path"]))
            if match == Match.PARTIAL and partial is None:
                partial = str(getattr(route, "path", scope["path"]))
        if partial is None and not scope["path"].endswith("/"):
            # A slashless URL form counts under its collection's template without the slash.
            slashed = {**scope, "path": scope["path"] + "/"}
            for route in self.routes:
                if route.matches(slashed)[0] == Match.FULL:
                    return str(getattr(route, "path", "")).removesuffix("/")
        return partial or scope["path"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        book: FaultBook = self.root.state.faults
        method = scope["method"]
        template = self._template(scope)
        book.count(f"{method} {template}")
        latency, rule = book.fire(method, template, scope["path"])
        if latency:
            await asyncio.sleep(latency / 1000)
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.kind == "error":
            body = {
                "error": rule.message or "upstream service unavailable",
                "service": downstream_service(scope["path"]),
            }
            await JSONResponse(body, status_code=rule.status)(scope, receive, send)
        elif rule.kind == "rate_limit":
            await JSONResponse(
                {"error": "rate limit exceeded"},
                status_code=429,
                headers={"Retry-After": str(rule.retry_after)},
            )(scope, receive, send)
        else:
            await self._lose(scope, receive, send)

    async def _lose(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the handler commit, then send headers that promise a body that never comes."""
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        start: dict[str, Any] = next(
            (dict(x) for x in messages if x["type"] == "http.response.start"),
            {"status": 200, "headers": []},
        )
        size = sum(len(x.get("body", b"")) for x in messages if x["type"] == "http.response.body")
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(size + 1).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        raise LostResponse("emulator fault: the response was lost after the change committed")


# The one route whose body is a (large, streamed) archive; multipart.py caps it itself.
_UPLOAD_PATH = "/api/v1/upload/upload-only"


class BodyTooLarge(PlatformError):
    def __init__(self, limit: int) -> None:
        super().__init__(400, f"request body too large: the limit is {limit // 1024**2} MiB")


def loopback_name(host: str) -> bool:
    """`localhost`, `*.localhost` (the local router's service names) or a loopback address."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_of(scope: Scope) -> str:
    for key, value in scope.get("headers", []):
        if key == b"host":
            text = str(value.decode("latin-1")).strip()
            if text.startswith("["):
                return text[: text.find("]") + 1] if "]" in text else text
            return text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    return ""


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class ServerGuard:
    """The gateway as a server on this machine (docs/emulator.md, "Hardening").

    - Served on a loopback address, only loopback Host names are answered (403 otherwise): a
      web page cannot reach it through DNS rebinding (`evil.example` resolving to 127.0.0.1).
      A connection to another address (`--host 0.0.0.0` reached from the network, or an
      in-process transport) is not subject to it: there the bind itself is the choice.
    - `/_emulator/*` needs `Authorization: Bearer <admin token>` unless `admin_open`.
    - A request body over `max_json_body_bytes` (every route but the upload) is a 400.
    """

    def __init__(self, app: ASGIApp, config: EmulatorConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        server = scope.get("server") or ("", None)
        if loopback_name(str(server[0] or "")) and not loopback_name(_host_of(scope)):
            await self._refuse(scope, receive, send, 403, "host not allowed: use 127.0.0.1")
            return
        path: str = scope["path"]
        admin = path == "/_emulator" or path.startswith("/_emulator/")
        if admin and self.config.admin_enabled and not self._admin_allowed(scope):
            await self._refuse(
                scope,
                receive,
                send,
                401,
                "the admin API needs Authorization: Bearer <admin token> "
                "(printed by `odplan gateway serve`)",
            )
            return
        if scope["type"] == "http" and path != _UPLOAD_PATH:
            limit = self.config.max_json_body_bytes
            declared = _header(scope, b"content-length")
            if declared.isdigit() and int(declared) > limit:
                await self._refuse(scope, receive, send, 400, BodyTooLarge(limit).error)
                return
            await self._capped(scope, receive, send, limit)
            return
        await self.app(scope, receive, send)

    async def _capped(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Run the app with a body cap: past `limit` bytes reading raises, and whatever answer
        the app makes of that (FastAPI's "error parsing the body") is replaced by ours."""
        seen = 0
        refused = False
        replaced = False

        async def capped_receive() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if not refused:
                await send(message)
                return
            if not replaced:
                replaced = True
                body = BodyTooLarge(limit).body()
                await JSONResponse(body, status_code=400)(scope, receive, send)

        await self.app(scope, capped_receive, guarded_send)

    def _admin_allowed(self, scope: Scope) -> bool:
        if self.config.admin_open:
            return True
        token = self.config.admin_token or ""
        given = _header(scope, b"authorization").removeprefix("Bearer ").strip()
        return bool(token) and hmac.compare_digest(given.encode(), token.encode())

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, error: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await JSONResponse({"error": error}, status_code=status)(scope, receive, send)
