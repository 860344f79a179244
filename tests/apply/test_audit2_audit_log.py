"""A secret the gateway echoes back in a failure is never printed nor logged (independent
mutation audit, issue 19), over real HTTP against the local gateway, odplan in-process:

* a live variable this run never sent (a redeploy sends none), such as the database URL and
  its password, quoted by a failed build's `error_msg`: the gateway client scrubs the values of
  every env map it reads, not only of those it sent (this was a bug: the password was printed
  on stderr, twice);
* a short secret (under the 8 characters the client scrubs from all free text) quoted the
  same way: the executor scrubs every secret value the run holds from the audit log.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.apply.rig import rig
from tests.apply.test_handler_promises import applied, manifest


def test_a_live_secret_echoed_by_a_failed_redeploy_is_neither_printed_nor_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, manifest()) as r:
        applied(r)
        url = r.live().env["web"]["DATABASE_URL"]
        password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        assert len(password) >= 8, url
        httpx.post(
            f"{r.root_url}/_emulator/deployment-faults",
            json={
                "mode": "fail",
                "phase": "build",
                "logs": ["migrations failed"],
                "error_msg": f"cannot connect to {url}",
                "count": 1,
            },
            timeout=30,
        ).raise_for_status()
        result = r.apply("--redeploy", "service.web")
        assert result.exit_code == 1, result.output
        logs = "\n".join(p.read_text() for p in sorted((r.home / "logs").rglob("*")) if p.is_file())
        assert "cannot connect to ***" in logs
        assert password not in logs
        assert password not in result.output


SECRET_ENV = "    env:\n      LOG_LEVEL: info\n      API_TOKEN: ${{ secrets.API_TOKEN }}\n"


def test_a_short_secret_echoed_by_a_failed_build_is_not_in_the_audit_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = manifest().replace("    env:\n      LOG_LEVEL: info\n", SECRET_ENV)
    assert "API_TOKEN" in text
    monkeypatch.setenv("API_TOKEN", "q7Zx9w")
    with rig(tmp_path, monkeypatch, text) as r:
        httpx.post(
            f"{r.root_url}/_emulator/deployment-faults",
            json={"mode": "fail", "phase": "build", "error_msg": "bad token q7Zx9w", "count": 1},
            timeout=30,
        ).raise_for_status()
        result = r.apply()
        assert result.exit_code == 1, result.output
        logs = "\n".join(p.read_text() for p in sorted((r.home / "logs").rglob("*")) if p.is_file())
        assert "bad token ***" in logs
        assert "q7Zx9w" not in logs
