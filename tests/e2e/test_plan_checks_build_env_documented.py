"""A `build_env`-only change against the documented profile (issue 14 leftover), over real
HTTP: the gateway never shows a service's `build_variables`, so the plan compares the manifest's
build variables with the keyed digest the serving deployment's stamp carries (`b=`), shows the
change, and after apply plans clean again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.apply_support import RealGateway, describe, example_odplan, real_gateway


@pytest.fixture
def gateway() -> Iterator[RealGateway]:
    with real_gateway(profile="documented", auto_domain_delay_seconds=0.0) as running:
        yield running


def test_a_build_env_only_change_shows_and_converges(gateway: RealGateway, tmp_path: Path) -> None:
    odplan = example_odplan(gateway, tmp_path, "nextjs-postgres")
    assert odplan.apply().returncode == 0
    assert odplan.plan("--detailed-exitcode").returncode == 0

    text = odplan.manifest.read_text()
    odplan.manifest.write_text(
        text.replace("NEXT_PUBLIC_SITE_NAME: Guestbook", "NEXT_PUBLIC_SITE_NAME: Visitors")
    )
    planned = odplan.plan("--detailed-exitcode")

    assert planned.returncode == 2, describe(planned)
    assert "build_env.*" in planned.stdout
    assert "the gateway does not show build variables" in planned.stdout
    assert "> service.web.deployment" in planned.stdout
    assert "Visitors" not in planned.stdout.split("build_env.*", 1)[1].split("\n", 1)[0]

    applied = odplan.apply()
    assert applied.returncode == 0, describe(applied)
    again = odplan.plan("--detailed-exitcode")
    assert again.returncode == 0, describe(again)
