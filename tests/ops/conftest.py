"""A local gateway on a real 127.0.0.1 port with a real clock and sub-second phases, so day-two
commands can wait for deployments the way they do against the platform; HOME, the auth file
and the audit log live in a temp dir, and the credential is a minted dashboard token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.helpers import MANIFEST, Gateway, odplan, write_app


@pytest.fixture
def gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    from opendeploy_plan.emulator import EmulatorConfig, create_app
    from opendeploy_plan.emulator.server import serve_in_thread

    config = EmulatorConfig(
        db_path=":memory:",
        pending_seconds=0.05,
        analyze_seconds=0.05,
        build_seconds=0.3,
        deploy_seconds=0.1,
        instant_fail_seconds=0.05,
        dependency_ready_seconds=0.05,
        auto_domain_delay_seconds=0.05,
        domain_reconcile_seconds=0.05,
        seed=11,
    )
    app = create_app(config)
    home = tmp_path / "home"
    home.mkdir()
    log_dir = home / ".opendeploy" / "logs"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("OPDEPLOY_AUTH_FILE", str(home / ".opendeploy" / "auth.json"))
    monkeypatch.setenv("OPDEPLOY_LOG_DIR", str(log_dir))
    for name in ("OD_ENVIRONMENT", "OPDEPLOY_ALLOW_CREDENTIAL_INIT", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    with serve_in_thread(app) as root:
        base = f"{root}/api"
        config.public_url = base
        token = app.state.emulator.mint_dashboard_token()
        monkeypatch.setenv("OD_GATEWAY", base)
        monkeypatch.setenv("OD_API_KEY", token)
        yield Gateway(base, token, app.state.emulator, log_dir)


@pytest.fixture
def applied(gateway: Gateway, tmp_path: Path) -> Path:
    """A project deployed by `odplan apply`, so its deployment carries a stamp."""
    app = write_app(tmp_path / "app")
    manifest = app / "opendeploy.yaml"
    manifest.write_text(MANIFEST)
    result = odplan("apply", "-f", str(manifest), "--auto-approve")
    assert result.exit_code == 0, result.output
    return manifest
