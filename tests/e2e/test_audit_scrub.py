"""The audit log never keeps a secret value, even when the gateway's own error text echoes one
back (found in review: a failed build's `error_msg` reached the log's `reason`)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.apply_support import CANARY, Odplan, describe, real_gateway, write_shop


def test_a_failure_message_echoing_a_secret_is_scrubbed_from_the_audit_log(
    tmp_path: Path,
) -> None:
    with real_gateway() as gateway:
        home = tmp_path / "home"
        home.mkdir()
        odplan = Odplan(gateway, home, write_shop(tmp_path / "app"))
        gateway.admin(
            "POST",
            "/deployment-faults",
            {
                "mode": "fail",
                "phase": "build",
                "service": "api",
                "logs": ["build step failed"],
                "error_msg": f"build failed: API_TOKEN={CANARY}",
            },
        )
        failed = odplan.apply()
        assert failed.returncode == 1, describe(failed)
        audit = odplan.audit_text()
        assert '"step": "apply.action"' in audit or '"step":"apply.action"' in audit
        assert "build failed: API_TOKEN=***" in audit
        assert CANARY not in audit
