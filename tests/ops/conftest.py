"""A local gateway on a real 127.0.0.1 port with a real clock and sub-second phases, so day-two
commands can wait for deployments the way they do against the platform; HOME, the auth file
and the audit log live in a temp dir, and the credential is a minted dashboard token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FAST_PHASES, running_gateway
from tests.ops.helpers import MANIFEST, Gateway, odplan, write_app


@pytest.fixture
def gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Gateway]:
    """A local gateway; its profile is `default` unless a test parametrizes `gateway`
    indirectly (`["default", "documented"]`)."""
    profile = getattr(request, "param", "default")
    home = tmp_path / "home"
    home.mkdir()
    log_dir = home / ".opendeploy" / "logs"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("OPDEPLOY_AUTH_FILE", str(home / ".opendeploy" / "auth.json"))
    monkeypatch.setenv("OPDEPLOY_LOG_DIR", str(log_dir))
    for name in ("OD_ENVIRONMENT", "OPDEPLOY_ALLOW_CREDENTIAL_INIT", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    phases = {**FAST_PHASES, "build_seconds": 0.3, "dependency_ready_seconds": 0.05}
    with running_gateway(**phases, seed=11, profile=profile) as live:
        monkeypatch.setenv("OD_GATEWAY", live.base_url)
        monkeypatch.setenv("OD_API_KEY", live.dashboard_token)
        yield Gateway(live.base_url, live.dashboard_token, live.emulator, log_dir)


@pytest.fixture
def applied(gateway: Gateway, tmp_path: Path) -> Path:
    """A project deployed by `odplan apply`, so its deployment carries a stamp."""
    app = write_app(tmp_path / "app")
    manifest = app / "opendeploy.yaml"
    manifest.write_text(MANIFEST)
    result = odplan("apply", "-f", str(manifest), "--auto-approve")
    assert result.exit_code == 0, result.output
    return manifest
