"""Against the gateway as documented (`profile="documented"`): the deployment stamp survives
its 255-character description, and `DELETE /v1/services/:id` (undocumented) fails with a clear
message instead of a false "accepted but not kept"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.apply_support import RealGateway, describe, example_odplan, real_gateway

LONG_NAME = "storefront-landing-pages-and-marketing-campaign-site"


@pytest.fixture
def documented() -> Iterator[RealGateway]:
    with real_gateway(profile="documented") as running:
        yield running


def test_apply_then_plan_is_empty_with_descriptions_cut_at_255(
    documented: RealGateway, tmp_path: Path
) -> None:
    odplan = example_odplan(documented, tmp_path, "static-site")
    # A long (valid) service name: the old stamp of full digests went past 255 characters and
    # was cut inside its config digest, so every plan redeployed.
    text = odplan.manifest.read_text().replace("  site:", f"  {LONG_NAME}:")
    odplan.manifest.write_text(text)
    applied = odplan.apply()
    assert applied.returncode == 0, describe(applied)
    for _ in range(2):
        planned = odplan.plan("--detailed-exitcode")
        assert planned.returncode == 0, describe(planned)


def test_pruning_a_service_says_the_gateway_cannot_delete_it(
    documented: RealGateway, tmp_path: Path
) -> None:
    odplan = example_odplan(documented, tmp_path, "static-site")
    applied = odplan.apply()
    assert applied.returncode == 0, describe(applied)
    odplan.manifest.write_text(odplan.manifest.read_text().replace("  site:", "  home:"))

    pruned = odplan.apply("--prune")

    assert pruned.returncode != 0, describe(pruned)
    assert "does not support deleting a service through the API" in pruned.stderr, describe(pruned)
    assert "dashboard" in pruned.stderr and "--prune" in pruned.stderr
    assert "did not keep it" not in pruned.stdout + pruned.stderr
