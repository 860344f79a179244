"""The local gateway as a server on this machine (issue 17, item 9), over real HTTP.

Only loopback Host names are answered (DNS rebinding), `/_emulator/*` needs the admin token,
minting a token never revokes a live one silently, and oversized or hostile bodies and archives
are 400s that leave nothing behind.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from opendeploy_plan.emulator import EmulatorConfig
from tests.conftest import LiveGateway, running_gateway
from tests.emulator.helpers import Api


@pytest.fixture
def guarded() -> Iterator[LiveGateway]:
    """A gateway with the admin API closed, as `odplan gateway serve` runs it."""
    with running_gateway(admin_open=False) as gateway:
        yield gateway


@pytest.fixture
def api(live_gateway: LiveGateway) -> Api:
    return Api(live_gateway, live_gateway.dashboard_token)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _upload(api: Api, archive: bytes) -> httpx.Response:
    return api.post(
        "/v1/upload/upload-only",
        data={"project_name": "demo", "region_id": api.region_id()},
        files={"project_file": ("source.zip", archive, "application/zip")},
    )


def _bind(api: Api, archive: bytes) -> tuple[httpx.Response, str]:
    project = api.project()["id"]
    temp = api.ok(_upload(api, archive))["temp_file_path"]
    response = api.post(
        "/v1/upload/update-source", json={"project_id": project, "temp_file_path": temp}
    )
    return response, project


def _left_behind(gateway: LiveGateway, project_id: str) -> list[Path]:
    folder = gateway.emulator.ctx.project_dir(project_id)
    return [p for p in folder.rglob("*")] if folder.exists() else []


def test_only_loopback_host_names_are_answered(guarded: LiveGateway) -> None:
    url = f"{guarded.base_url}/v1/regions/"
    auth = {"Authorization": f"Bearer {guarded.dashboard_token}"}
    rebinding = httpx.get(url, headers={**auth, "Host": "evil.example"})
    assert rebinding.status_code == 403
    assert "host not allowed" in rebinding.json()["error"]
    admin = httpx.get(f"{guarded.root_url}/_emulator/clock", headers={"Host": "evil.example"})
    assert admin.status_code == 403
    port = guarded.root_url.rsplit(":", 1)[1]
    for host in ("localhost", f"localhost:{port}", f"127.0.0.1:{port}", "web.localhost"):
        assert httpx.get(url, headers={**auth, "Host": host}).status_code == 200, host


def test_the_admin_api_needs_the_admin_token(guarded: LiveGateway) -> None:
    url = f"{guarded.root_url}/_emulator/tokens"
    assert httpx.post(url, json={}).status_code == 401
    wrong = {"Authorization": f"Bearer {guarded.dashboard_token}"}
    assert httpx.post(url, json={}, headers=wrong).status_code == 401
    token = guarded.app.state.admin_token
    assert token and guarded.emulator.config.admin_open is False
    minted = httpx.post(url, json={}, headers={"Authorization": f"Bearer {token}"})
    assert minted.status_code == 200 and minted.json()["token"].startswith("od_k")
    assert EmulatorConfig().admin_open is False


def test_minting_for_a_user_never_revokes_a_live_token_silently(live_gateway: LiveGateway) -> None:
    url = f"{live_gateway.root_url}/_emulator/tokens"
    first = httpx.post(url, json={}).json()
    again = httpx.post(url, json={"user_id": first["user_id"]})
    assert again.status_code == 409
    assert "rotate" in again.json()["error"]
    assert live_gateway.emulator.user_of_token(first["token"]) == first["user_id"]
    rotated = httpx.post(url, json={"user_id": first["user_id"], "rotate": True})
    assert rotated.status_code == 200
    assert live_gateway.emulator.user_of_token(first["token"]) is None
    assert live_gateway.emulator.user_of_token(rotated.json()["token"]) == first["user_id"]


def test_an_upload_over_the_cap_is_a_400_and_leaves_no_file() -> None:
    with running_gateway(max_upload_bytes=1024 * 1024) as gateway:
        api = Api(gateway, gateway.dashboard_token)
        uploads = gateway.emulator.ctx.uploads_dir
        before = set(uploads.iterdir()) if uploads.exists() else set()
        response = _upload(api, b"PK\x03\x04" + b"\0" * (3 * 1024 * 1024))
        assert response.status_code == 400
        assert "too large" in response.json()["error"]
        after = set(uploads.iterdir()) if uploads.exists() else set()
        assert after == before
    assert EmulatorConfig().max_upload_bytes < 3 * 1024**3


def test_a_zip_bomb_is_refused_by_its_ratio(api: Api, live_gateway: LiveGateway) -> None:
    bomb = _zip({"zeros.bin": b"\0" * (64 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    response, project = _bind(api, bomb)
    assert response.status_code == 400
    assert "times its size" in response.json()["error"]
    assert _left_behind(live_gateway, project) == []


def test_a_zip_with_too_many_entries_is_refused(api: Api) -> None:
    entries = {f"f{i}.txt": b"" for i in range(EmulatorConfig().max_archive_entries + 1)}
    response, _ = _bind(api, _zip(entries))
    assert response.status_code == 400
    assert "entries" in response.json()["error"]


def test_a_json_body_over_the_cap_is_a_400(api: Api) -> None:
    big: dict[str, Any] = {"name": "x" * (9 * 1024 * 1024), "skip_validation": True}
    declared = api.post("/v1/projects/", json=big)
    assert declared.status_code == 400 and "too large" in declared.json()["error"]

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(9):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    streamed = api.post(
        "/v1/projects/", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 400 and "too large" in streamed.json()["error"]


@pytest.mark.parametrize(
    "names",
    [
        {"a": b"file", "a/b.txt": b"under a file"},
        {"ok.txt": b"fine", "..\\evil.txt": b"x"},
        {"ok.txt": b"fine", "bad\x1bname.txt": b"x"},
    ],
    ids=["file-and-folder", "backslash-climb", "control-char"],
)
def test_bad_member_names_are_a_400_and_nothing_is_left(
    api: Api, live_gateway: LiveGateway, names: dict[str, bytes]
) -> None:
    response, project = _bind(api, _zip(names))
    assert response.status_code == 400, response.text
    assert _left_behind(live_gateway, project) == []


def test_a_corrupt_member_is_a_400_and_the_extracted_part_is_removed(
    api: Api, live_gateway: LiveGateway
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("first.txt", b"extracted first")
        archive.writestr("second.txt", b"SECOND-MEMBER-PAYLOAD")
    raw = buffer.getvalue().replace(b"SECOND-MEMBER-PAYLOAD", b"SECOND-MEMBER-TAMPERD")
    response, project = _bind(api, raw)
    assert response.status_code == 400, response.text
    assert _left_behind(live_gateway, project) == []
