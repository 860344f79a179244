"""The local dashboard: the two pages the CLI links to, served beside the gateway API by
`odplan gateway serve` / `start`, so that local links answer on this machine.

- `/guest/<guest_id>?h=<bind_sig>`: the bind page. The real dashboard signs the user in and
  links the guest credential to their account; locally, one button binds it to a local account
  (a free-plan user created on the spot), after which the same token acts as that account.
- `/projects/<project_id>`: the project's services and their live URLs on the local router.

Both answer only to a loopback Host (the pages are for this machine) and say they are local.
"""

from __future__ import annotations

import html
import ipaddress
import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from opendeploy_plan.emulator.errors import PlatformError

__all__ = ["with_local_pages"]

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}"
    "code{background:#f2f2f2;padding:0 .2rem}.note{color:#666}"
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}"
        "<p class='note'>Local opendeploy dashboard (odplan), on this machine only.</p>"
        "</body></html>",
        status_code=status,
    )


def _is_loopback(host: str) -> bool:
    """`localhost`, `*.localhost` or a loopback address (the emulator does not import the
    client's gateway package, which has the same test)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _loopback_only(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    async def guarded(request: Request) -> Response:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
        if not _is_loopback(host.lower()):
            return _page("Not found", "<p>The local dashboard answers on loopback only.</p>", 404)
        result: Response = await handler(request)
        return result

    return guarded


def with_local_pages(gateway: Any) -> ASGIApp:
    """`gateway` (the emulator app) with the local dashboard pages in front of it."""
    emulator = gateway.state.emulator

    async def bind_page(request: Request) -> Response:
        guest_id = request.path_params["guest_id"]
        sig = request.query_params.get("h", "")
        try:
            if request.method == "POST":
                form = await request.form()
                sig = str(form.get("h") or sig)
                result = emulator.bind_guest(guest_id, None, sig=sig)
                listed = "".join(
                    f"<li><a href='/projects/{html.escape(p)}'>{html.escape(p)}</a></li>"
                    for p in result["project_ids"]
                )
                return _page(
                    "Bound to a local account",
                    "<p>The guest credential now acts as a local account: its projects are "
                    "kept, and guest caps no longer apply.</p>"
                    + (f"<ul>{listed}</ul>" if listed else ""),
                )
            status = emulator.guest_status(guest_id, sig)
        except PlatformError as error:
            return _page("Cannot bind", f"<p>{html.escape(error.error)}</p>", error.status)
        if status["state"] != "pending":
            return _page(
                "Already bound", f"<p>This credential is {html.escape(status['state'])}.</p>"
            )
        app_url = request.query_params.get("url", "")
        shown = (
            f"<p>Deployed app: <a href='{html.escape(app_url)}'>{html.escape(app_url)}</a></p>"
            if app_url.startswith("http://")
            else ""
        )
        return _page(
            "Bind this guest credential",
            f"<p>Guest <code>{html.escape(guest_id)}</code> "
            f"({html.escape(status['name'])}) deploys under guest caps, and its projects are "
            f"collected after 6 idle hours until it is bound.</p>{shown}"
            "<form method='post'><input type='hidden' name='h' "
            f"value='{html.escape(sig)}'><button>Bind to a local account</button></form>",
        )

    async def project_page(request: Request) -> Response:
        project_id = request.path_params["project_id"]
        with emulator.store.transaction() as tx:
            project = tx.one("SELECT * FROM projects WHERE id=?", (project_id,))
            rows = tx.all(
                "SELECT s.name, s.environment, d.domain FROM services s LEFT JOIN domains d "
                "ON d.service_id=s.id AND d.type='auto' WHERE s.project_id=? ORDER BY s.name",
                (project_id,),
            )
        if project is None:
            return _page("Not found", "<p>No such project on this local gateway.</p>", 404)
        port = getattr(emulator.runner, "router_port", None)
        items = []
        for row in rows:
            link = _router_link(row["domain"], port) if row["domain"] else ""
            shown = f" <a href='{html.escape(link)}'>{html.escape(link)}</a>" if link else ""
            items.append(
                f"<li><b>{html.escape(row['name'])}</b> ({html.escape(row['environment'])})"
                f"{shown}</li>"
            )
        data = json.loads(project["data"] or "{}")
        return _page(
            f"Project {project['name']}",
            f"<p>{html.escape(str(data.get('description') or ''))}</p><ul>{''.join(items)}</ul>",
        )

    return Starlette(
        routes=[
            Route("/guest/{guest_id}", _loopback_only(bind_page), methods=["GET", "POST"]),
            Route("/projects/{project_id}", _loopback_only(project_page), methods=["GET"]),
            Mount("/", app=gateway),
        ]
    )


def _router_link(domain: str, port: int | None) -> str:
    """The router's local URL of an auto domain (`http://web.localhost:8788`)."""
    if port is None:
        return ""
    for base, local in (("dev.opendeploy.run", "dev.localhost"), ("opendeploy.run", "localhost")):
        if domain.endswith("." + base):
            return f"http://{domain[: -len(base) - 1]}.{local}:{port}"
    return ""
