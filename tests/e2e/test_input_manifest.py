"""Issue 17, items 6 and 10, through the real CLI (a child process) against a real gateway:
integers beyond what the platform stores and overlays naming unknown services are errors with
file:line:col (never a traceback), found before any request is made."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.apply_support import Odplan, RealGateway, describe, real_gateway, write_shop


@pytest.fixture
def gateway() -> Iterator[RealGateway]:
    with real_gateway() as running:
        yield running


@pytest.fixture
def odplan(gateway: RealGateway, tmp_path: Path) -> Odplan:
    home = tmp_path / "home"
    home.mkdir()
    return Odplan(gateway, home, write_shop(tmp_path / "app"))


def _validate(odplan: Odplan) -> subprocess.CompletedProcess[str]:
    """`odplan validate` (offline: it takes no --gateway)."""
    return subprocess.run(
        [sys.executable, "-m", "opendeploy_plan", "validate", "-f", str(odplan.manifest)],
        capture_output=True,
        text=True,
        env=odplan.env,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _position(manifest: Path, needle: str) -> str:
    """`LINE:COL` of the value after `needle` (a key) in the manifest."""
    for number, line in enumerate(manifest.read_text().splitlines(), start=1):
        if needle in line:
            return f"{number}:{line.index(needle) + len(needle) + 1}"
    raise AssertionError(needle)


def _position_of_key(manifest: Path, key: str, after_line: int = 0) -> str:
    for number, line in enumerate(manifest.read_text().splitlines(), start=1):
        if number > after_line and line.strip().startswith(key + ":"):
            return f"{number}:{line.index(key) + 1}"
    raise AssertionError(key)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("9" * 5000, "integer with 5000 digits is out of range (at most 9223372036854775807)"),
        ("99999999999999999999999", "must be at most 2147483647 (got 99999999999999999999999)"),
        ("2147483648", "must be at most 2147483647 (got 2147483648)"),
    ],
    ids=["5000-digits", "beyond-int64", "beyond-int32"],
)
def test_an_integer_beyond_the_platform_is_an_error_at_its_position(
    odplan: Odplan, written: str, message: str
) -> None:
    text = odplan.manifest.read_text()
    odplan.manifest.write_text(
        text.replace("    port: 8081\n", f"    port: 8081\n    replicas: {written}\n")
    )
    where = _position(odplan.manifest, "replicas: ")

    for result in (_validate(odplan), odplan.plan(), odplan.apply()):
        assert result.returncode == 1, describe(result)
        assert (
            f"{odplan.manifest}:{where}: error: services.admin.replicas: {message}"
            in result.stdout + result.stderr
        ), describe(result)
        assert "Traceback" not in result.stderr
    assert odplan.census("shop").projects == 0


def test_an_overlay_naming_an_unknown_service_is_an_error_with_a_suggestion(
    odplan: Odplan,
) -> None:
    with odplan.manifest.open("a") as manifest:
        manifest.write(
            "environments:\n  staging:\n    services:\n      wroker:\n        replicas: 2\n"
        )
    where = _position_of_key(odplan.manifest, "wroker")

    for result in (_validate(odplan), odplan.plan("-e", "staging"), odplan.plan()):
        assert result.returncode == 1, describe(result)
        assert (
            f"{odplan.manifest}:{where}: error: environments.staging.services.wroker: "
            "unknown service 'wroker'; did you mean 'worker'?" in result.stdout + result.stderr
        ), describe(result)
    assert odplan.census("shop", "staging").projects == 0
