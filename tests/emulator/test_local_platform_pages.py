"""The local dashboard pages `odplan gateway serve` adds beside the API: the bind page binds a
guest credential to a local account; the project page lists live URLs; loopback Host only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import httpx

from opendeploy_plan.emulator import EmulatorConfig, create_app
from opendeploy_plan.emulator.local_pages import with_local_pages
from opendeploy_plan.emulator.server import serve_in_thread
from tests.emulator.helpers import Api


@contextmanager
def pages() -> Iterator[tuple[httpx.Client, Any, str]]:
    """The emulator with its local pages, served over real HTTP on an ephemeral port."""
    config = EmulatorConfig()
    app = create_app(config)
    with serve_in_thread(with_local_pages(app), wait_for_stop=False) as root:
        config.public_url = f"{root}/api"
        with httpx.Client(base_url=root, timeout=10) as client:
            yield client, app.state.emulator, root


def test_the_bind_page_binds_a_guest_to_a_local_account() -> None:
    with pages() as (client, _, root):
        bind_flow(client, root)


def bind_flow(client: httpx.Client, root: str) -> None:
    guest = client.post("/api/v1/client-guests/register", json={}).json()
    key = {"Authorization": f"Bearer {guest['api_key']}"}
    assert client.get("/api/v1/profile", headers=key).status_code == 401, "unbound at first"
    assert guest["bind_url"].startswith(f"{root}/guest/")

    page = client.get(guest["bind_url"].removeprefix(root))
    assert page.status_code == 200 and "Bind to a local account" in page.text
    bound = client.post(f"/guest/{guest['guest_id']}", data={"h": guest["bind_sig"]})
    assert bound.status_code == 200 and "Bound to a local account" in bound.text
    assert client.get("/api/v1/profile", headers=key).status_code == 200, "acts as an account"
    assert "Already bound" in client.get(guest["bind_url"].removeprefix(root)).text


def test_the_bind_page_refuses_a_wrong_signature_and_a_foreign_host() -> None:
    with pages() as (client, _, root):
        refusals(client, root)


def refusals(client: httpx.Client, root: str) -> None:
    guest = client.post("/api/v1/client-guests/register", json={}).json()
    wrong = client.post(f"/guest/{guest['guest_id']}", data={"h": "0" * 64})
    assert wrong.status_code == 401
    foreign = client.get(guest["bind_url"].removeprefix(root), headers={"Host": "attacker.example"})
    assert foreign.status_code == 404


def test_the_project_page_lists_the_services() -> None:
    with pages() as (client, emulator, root):
        project_page(client, emulator, root)


def project_page(client: httpx.Client, emulator: Any, root: str) -> None:
    api = Api(SimpleNamespace(base_url=f"{root}/api"), emulator.mint_dashboard_token())
    project = api.project("shop")
    api.service(project["id"])
    page = client.get(f"/projects/{project['id']}")
    assert page.status_code == 200 and "Project shop" in page.text and "<b>web</b>" in page.text
    assert client.get("/projects/nope").status_code == 404
    # The API behind the pages is untouched.
    assert api.get("/v1/regions/").status_code == 200
