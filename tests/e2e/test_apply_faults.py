"""`odplan apply` on a flaky network. A create whose answer is lost (it committed, then the
connection dropped) is found by name, or by the run id in a deployment's description, never
made twice. And with 10 % 5xx answers, 5 % lost responses and 200 ms of latency on every
gateway request, applying again until it succeeds converges to an empty plan, and nothing was
ever created twice: one project, one row per service and database, one successful deployment
per change, and no run started two deployments of a service. Both against the emulator's
default profile and its documented one (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.apply_support import (
    PROFILES,
    Odplan,
    apply_until_clean,
    assert_no_canary,
    describe,
    real_gateway,
    write_shop,
)

MAX_RUNS = 8


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES)
def test_repeated_applies_through_faults_converge_without_duplicates(
    profile: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with real_gateway(profile=profile) as gateway:
        odplan = Odplan(gateway, home, write_shop(tmp_path / "app"))
        gateway.add_fault(kind="latency", route="/api/*", latency_ms=200)
        gateway.add_fault(kind="error", route="/api/*", rate=0.10, seed=11, status=503)
        gateway.add_fault(kind="lost_response", route="/api/*", rate=0.05, seed=12)

        runs = apply_until_clean(odplan, MAX_RUNS)

        fired = {f["kind"]: f["fired"] for f in gateway.admin("GET", "/faults")["faults"]}
        gateway.clear_faults()
        report = "\n\n".join(describe(r) for r in runs)
        assert runs[-1].returncode == 0, f"no clean apply in {MAX_RUNS} runs:\n{report}"
        # The faults did fire, lost responses included: this is not a fair-weather run.
        assert fired["error"] > 0 and fired["lost_response"] > 0, fired
        planned = odplan.plan("--detailed-exitcode")
        assert planned.returncode == 0, describe(planned)
        census = odplan.census("shop")
        assert census.duplicates() == [], report
        assert census.projects == 1
        assert sorted(census.services) == ["admin", "api", "worker"]
        assert sorted(census.dependencies) == ["cache", "db"]
        for service in ("admin", "api", "worker"):
            assert census.successful(service) == 1, census
        assert "https://shop-api.opendeploy.run" in runs[-1].stdout
        assert_no_canary([t for r in runs for t in (r.stdout, r.stderr)], home=home)


CREATES = (
    "/api/v1/projects/",
    "/api/v1/dependencies/create",
    "/api/v1/projects/{project_id}/services/",
    "/api/v1/deployments/",
)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_create_whose_response_is_lost_is_found_not_repeated(
    profile: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with real_gateway(profile=profile) as gateway:
        odplan = Odplan(gateway, home, write_shop(tmp_path / "app"))
        # The first create of each kind commits, then its connection drops before the answer.
        # (Idempotent requests, uploads included, are simply retried: the slow test covers them.)
        for route in CREATES:
            gateway.add_fault(kind="lost_response", method="POST", route=route, count=1)

        applied = odplan.apply()

        left = gateway.admin("GET", "/faults")["faults"]
        assert left == [], f"faults that never fired: {left}"
        assert applied.returncode == 0, describe(applied)
        assert "https://shop-api.opendeploy.run" in applied.stdout
        planned = odplan.plan("--detailed-exitcode")
        assert planned.returncode == 0, describe(planned)
        census = odplan.census("shop")
        assert census.duplicates() == []
        assert census.projects == 1
        assert sorted(census.services.elements()) == ["admin", "api", "worker"]
        assert sorted(census.dependencies.elements()) == ["cache", "db"]
        assert len(census.deployments) == 3
        assert_no_canary([applied.stdout, applied.stderr], home=home)
