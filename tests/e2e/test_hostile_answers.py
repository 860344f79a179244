"""Gateway text that reaches `odplan apply`'s output and audit log (issue 17, item 7).

A failed build's `error_msg` is the gateway's own text: here it carries terminal escape
sequences, a forged line and the first characters of a secret the apply sent. Neither the
terminal nor the audit log may receive a raw control character or the secret's prefix.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.apply_support import CANARY, Odplan, describe, real_gateway, write_shop


def test_a_hostile_build_error_is_escaped_and_its_secret_prefix_redacted(tmp_path: Path) -> None:
    prefix = CANARY[:16]
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
                "logs": ["step 1\x1b]0;owned\x07", "\x1b[2Jcleared"],
                "error_msg": f"build failed: token {prefix}...\x1b[2J\r\nerror: forged line",
            },
        )
        failed = odplan.apply()
    assert failed.returncode == 1, describe(failed)
    output = failed.stdout + failed.stderr
    audit = odplan.audit_text()
    for text in (output, audit):
        assert prefix not in text
        assert "\x1b" not in text and "\x07" not in text
        assert "\nerror: forged line" not in text
    assert "build failed: token ***" in output, describe(failed)
