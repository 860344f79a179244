"""The pure choices of redeploy and rollback at their edges (second mutation audit, issue 19;
ops/deployments.py): when no deployment of the service was built from the bound archive, the
redeploy's service digest comes from its newest *successful* stamped deployment, never from a
failed one (a failed build says nothing about what the service's folder holds)."""

from __future__ import annotations

from opendeploy_plan.gateway import Deployment
from opendeploy_plan.ops.deployments import redeploy_stamp
from opendeploy_plan.plan import Stamp, format_stamp


def _deployment(
    id: str, second: int, status: str, service: str, project: str, digest: str
) -> Deployment:
    return Deployment(
        id=id,
        status=status,
        service_id=service,
        description=format_stamp(Stamp(project, digest, run_id="r0"), "odplan deploy"),
        created_at=f"2026-01-01T00:00:{second:02d}Z",
    )


def test_the_fallback_digest_is_the_newest_successful_one_not_a_newer_failure() -> None:
    history = [
        _deployment("ok", 1, "success", "s1", "sha256:p0", "sha256:good"),
        _deployment("broken", 2, "failed", "s1", "sha256:p1", "sha256:broken"),
        # Another service's deploy bound the archive the redeploy rebuilds.
        _deployment("bind", 3, "success", "s2", "sha256:p2", "sha256:other"),
    ]

    assert redeploy_stamp(history, "s1", "run7") == Stamp("sha256:p2", "sha256:good", run_id="run7")


def test_no_successful_stamped_deployment_leaves_the_source_unknown() -> None:
    history = [
        _deployment("broken", 2, "failed", "s1", "sha256:p1", "sha256:broken"),
        _deployment("bind", 3, "success", "s2", "sha256:p2", "sha256:other"),
    ]

    assert redeploy_stamp(history, "s1", "run7") is None
