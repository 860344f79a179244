"""The folder link (engine.link) and the unbound-guest check (engine.guest), the latter against
the emulator app in-process (its lifespan entered, an ASGI transport)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from opendeploy_plan.engine.guest import is_unbound_guest, unbound_bind_url
from opendeploy_plan.engine.link import LINK_FILE, LINK_FORMAT, read_link, write_link
from opendeploy_plan.gateway import Credential, GatewayClient

BASE = "http://gw.test/api"


def test_a_written_link_reads_back(tmp_path: Path) -> None:
    assert read_link(tmp_path) is None
    write_link(tmp_path, "https://gw.example/api")
    assert read_link(tmp_path) == "https://gw.example/api"
    data = json.loads((tmp_path / LINK_FILE).read_text())
    assert data == {"format": LINK_FORMAT, "gateway": "https://gw.example/api"}
    assert (tmp_path / ".opendeploy" / ".gitignore").read_text() == "*\n"
    write_link(tmp_path, "local")
    assert read_link(tmp_path) == "local"


def test_an_existing_gitignore_is_kept(tmp_path: Path) -> None:
    (tmp_path / ".opendeploy").mkdir()
    (tmp_path / ".opendeploy" / ".gitignore").write_text("mine\n")
    write_link(tmp_path, "local")
    assert (tmp_path / ".opendeploy" / ".gitignore").read_text() == "mine\n"


def test_the_same_link_is_not_rewritten(tmp_path: Path) -> None:
    link = tmp_path / LINK_FILE
    link.parent.mkdir()
    link.write_text(json.dumps({"format": LINK_FORMAT, "gateway": " local ", "extra": 1}))
    write_link(tmp_path, "local")
    assert json.loads(link.read_text())["extra"] == 1
    assert not (tmp_path / ".opendeploy" / ".gitignore").exists()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        json.dumps({"format": "other/1", "gateway": "local"}),
        json.dumps({"gateway": "local"}),
        json.dumps({"format": LINK_FORMAT, "gateway": "   "}),
        json.dumps({"format": LINK_FORMAT, "gateway": 3}),
        json.dumps({"format": LINK_FORMAT}),
    ],
)
def test_a_foreign_or_empty_link_is_no_link(tmp_path: Path, text: str) -> None:
    (tmp_path / ".opendeploy").mkdir()
    (tmp_path / LINK_FILE).write_text(text)
    assert read_link(tmp_path) is None


def test_an_unwritable_folder_just_has_no_link(tmp_path: Path) -> None:
    (tmp_path / ".opendeploy").write_text("a file where the folder goes")
    write_link(tmp_path, "local")
    assert read_link(tmp_path) is None


@pytest.fixture
async def emulator_transport() -> AsyncIterator[httpx.AsyncBaseTransport]:
    from opendeploy_plan.emulator import EmulatorConfig, create_app

    app = create_app(EmulatorConfig(db_path=":memory:", public_url=BASE))
    async with app.router.lifespan_context(app):
        yield httpx.ASGITransport(app=app)


async def _guest(transport: httpx.AsyncBaseTransport) -> Credential:
    async with httpx.AsyncClient(transport=transport) as http:
        answer = await http.post(f"{BASE}/v1/client-guests/register", json={})
        answer.raise_for_status()
        body = answer.json()
    return Credential(
        api_key=body["api_key"],
        gateway=BASE,
        source="env",
        guest_id=body.get("guest_id") or body.get("id"),
        bind_sig="sig",
    )


@pytest.mark.anyio
async def test_an_unbound_guest_gets_its_bind_url(
    emulator_transport: httpx.AsyncBaseTransport,
) -> None:
    credential = await _guest(emulator_transport)
    assert credential.kind == "guest"
    async with GatewayClient(BASE, credential.api_key, transport=emulator_transport) as client:
        assert await is_unbound_guest(client, credential) is True
        url = await unbound_bind_url(client, credential)
        assert url == credential.bind_url
        assert url.startswith("http://gw.test/guest/")
        assert await is_unbound_guest(client, None) is False
        assert await unbound_bind_url(client, None) == ""


@pytest.mark.anyio
async def test_a_dashboard_token_or_a_bound_guest_is_no_unbound_guest() -> None:
    from opendeploy_plan.emulator import EmulatorConfig, create_app

    app = create_app(EmulatorConfig(db_path=":memory:", public_url=BASE))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        token = str(app.state.emulator.mint_dashboard_token())
        credential = Credential(api_key=token, gateway=BASE, source="env")
        assert credential.kind == "dashboard"
        async with GatewayClient(BASE, token, transport=transport) as client:
            assert await is_unbound_guest(client, credential) is False
            assert await unbound_bind_url(client, credential) == ""
        guest = await _guest(transport)
        assert guest.guest_id
        app.state.emulator.bind_guest(guest.guest_id, None)
        async with GatewayClient(BASE, guest.api_key, transport=transport) as client:
            assert await is_unbound_guest(client, guest) is False
            assert await unbound_bind_url(client, guest) == ""
