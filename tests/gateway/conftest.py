"""Every gateway test runs with HOME, the auth file and the log directory in a temp dir, so no
test can ever read or write the real ~/.opendeploy."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = tmp_path / "sandbox-home"
    sandbox.mkdir()
    monkeypatch.setenv("HOME", str(sandbox))
    monkeypatch.setenv("OPDEPLOY_AUTH_FILE", str(sandbox / ".opendeploy" / "auth.json"))
    monkeypatch.setenv("OPDEPLOY_LOG_DIR", str(sandbox / ".opendeploy" / "logs"))
    for name in ("OD_API_KEY", "OD_GATEWAY", "OPDEPLOY_ALLOW_CREDENTIAL_INIT"):
        monkeypatch.delenv(name, raising=False)
