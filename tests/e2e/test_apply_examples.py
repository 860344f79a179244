"""`odplan apply` of every example app, from nothing, over real HTTP: it exits 0, reports the live
URL, leaves exactly one of everything, and planning again (twice: a second refresh reads the
same) shows no changes. No secret value appears in any output or in the audit log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from opendeploy_plan.manifest import load_manifest
from tests.e2e.apply_support import (
    Odplan,
    RealGateway,
    assert_no_canary,
    copy_example,
    describe,
    real_gateway,
)

EXAMPLES = ("api-worker", "django", "fastapi-postgres-redis", "nextjs-postgres", "static-site")


@pytest.fixture
def gateway() -> Iterator[RealGateway]:
    # The auto domain appears as the deployment succeeds (the wait for it is tested elsewhere).
    with real_gateway(auto_domain_delay_seconds=0.0) as running:
        yield running


@pytest.mark.parametrize("example", EXAMPLES)
def test_an_example_applies_from_scratch_and_then_plans_clean(
    example: str, gateway: RealGateway, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    odplan = Odplan(gateway, home, copy_example(example, tmp_path / "app"))
    manifest = load_manifest(odplan.manifest).manifest
    assert manifest is not None

    applied = odplan.apply()

    assert applied.returncode == 0, describe(applied)
    assert "Apply complete" in applied.stderr
    assert re.search(
        r"\*\*Live URLs?:\*\*.*?https://[a-z0-9-]+\.opendeploy\.run", applied.stdout, re.S
    ), describe(applied)
    for refresh in (1, 2):
        planned = odplan.plan("--detailed-exitcode")
        assert planned.returncode == 0, f"refresh {refresh}: {describe(planned)}"
        assert "No changes." in planned.stdout
    census = odplan.census(manifest.project.name)
    assert census.duplicates() == []
    assert sorted(census.services) == sorted(manifest.services)
    assert sorted(census.dependencies) == sorted(manifest.dependencies or {})
    for service in manifest.services:
        assert census.successful(service) == 1, census
    assert "deploy.terminal" in odplan.audit_text()
    assert_no_canary([applied.stdout, applied.stderr, planned.stdout, planned.stderr], home=home)
