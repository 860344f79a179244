"""`--gateway local`: the emulator in-process, its own state and token, the real auth untouched."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from opendeploy_plan.cli import main
from opendeploy_plan.engine.local_gateway import in_process_gateway, mint_local_account
from opendeploy_plan.gateway import open_client
from tests.gateway.helpers import make_zip

REAL_AUTH = '{"version": 99, "api_key": "od_k' + "R" * 43 + '"}'


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    real = home / ".opendeploy" / "auth.json"
    real.parent.mkdir(parents=True)
    # A version odplan would refuse: if local mode read this file at all, it would fail.
    real.write_text(REAL_AUTH)
    real.chmod(0o600)
    os.utime(real, (1_000_000_000, 1_000_000_000))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("OPDEPLOY_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("OD_API_KEY", "od_k" + "E" * 43)
    monkeypatch.setenv("OD_GATEWAY", "https://dashboard.dev.opendeploy.dev/api")
    monkeypatch.delenv("OPDEPLOY_AUTH_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return home


def assert_real_auth_untouched(home: Path) -> None:
    real = home / ".opendeploy" / "auth.json"
    assert real.read_text() == REAL_AUTH
    assert real.stat().st_mtime == 1_000_000_000


async def deploy_locally(archive: Path) -> tuple[str, list[str]]:
    async with open_client("local", local_gateway=in_process_gateway) as client:
        region = await client.active_region()
        project = await client.create_project("local-app", region_id=region.id)
        created = await client.create_service(
            project.id, {"name": "web", "type": "web", "environment": "production"}
        )
        upload = await client.upload_only(archive, project_name="local-app", region_id=region.id)
        await client.update_source(project.id, upload.temp_file_path)
        deployment = await client.create_deployment(
            project.id,
            created.service_id,
            environment="production",
            temp_file_path=upload.temp_file_path,
        )
        statuses = [deployment.status]
        for _ in range(100):
            current = await client.get_deployment(deployment.id)
            statuses.append(current.status)
            if current.status in ("success", "failed"):
                break
            await asyncio.sleep(0.1)
        return project.id, statuses


async def project_names() -> list[str]:
    async with open_client("local", local_gateway=in_process_gateway) as client:
        return [p.name for p in await client.list_projects()]


def test_local_gateway_runs_in_process_with_its_own_state(home: Path, tmp_path: Path) -> None:
    asyncio.run(mint_local_account(os.environ))  # opt in: act as an account
    _, statuses = asyncio.run(deploy_locally(make_zip(tmp_path)))
    assert statuses[-1] == "success"
    assert statuses[0] != "success", "a local build takes short but nonzero time"

    local = home / ".opendeploy" / "local"
    assert stat.S_IMODE(local.stat().st_mode) == 0o700
    assert (local / "gateway.sqlite3").is_file()
    token_file = local / "auth.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = json.loads(token_file.read_text())["api_key"]
    assert token.startswith("od_k")

    assert asyncio.run(project_names()) == ["local-app"], "state persists between runs"
    assert json.loads(token_file.read_text())["api_key"] == token, "the token is reused"
    assert_real_auth_untouched(home)


def test_whoami_local_shows_the_account_token_after_opting_in(home: Path) -> None:
    fresh = CliRunner().invoke(main, ["whoami", "--gateway", "local", "--json"])
    assert fresh.exit_code == 1
    assert "no credential for the local gateway" in fresh.stderr or "no credential" in fresh.stderr
    opted = CliRunner().invoke(main, ["gateway", "account"])
    assert opted.exit_code == 0, opted.output
    result = CliRunner().invoke(main, ["whoami", "--gateway", "local", "--json"])
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["local"] is True and info["state"] == "dashboard"
    assert info["source"].endswith("local/auth.json")
    assert_real_auth_untouched(home)


def test_a_stale_local_token_is_removed_not_replaced(home: Path) -> None:
    from opendeploy_plan.gateway import NoCredential

    stale = home / ".opendeploy" / "local" / "auth.json"
    stale.parent.mkdir(parents=True, mode=0o700)
    stale.write_text(json.dumps({"version": 1, "api_key": "od_k" + "S" * 43}))
    stale.chmod(0o600)
    with pytest.raises(NoCredential) as raised:
        asyncio.run(project_names())
    assert "login --guest --gateway local" in raised.value.hint
    assert not stale.exists(), "a credential the local gateway does not know is dropped"
    assert_real_auth_untouched(home)


def test_local_mode_without_an_injected_gateway_fails_clearly(home: Path) -> None:
    from opendeploy_plan.gateway import GatewayError

    async def attempt() -> None:
        async with open_client("local"):
            pass

    with pytest.raises(GatewayError, match="in-process gateway"):
        asyncio.run(attempt())
