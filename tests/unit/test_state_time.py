"""Deployment times are compared as times, never as text (issue 18), and refresh keeps a
service's newest deployments (issue 19: keeping the oldest ten failed no test)."""

from __future__ import annotations

from datetime import UTC, datetime

from opendeploy_plan.gateway import Deployment
from opendeploy_plan.state.model import (
    ObservedDeployment,
    ObservedService,
    parse_timestamp,
    timestamp_order,
)
from opendeploy_plan.state.refresh import DEPLOYMENT_HISTORY, newest_deployments

# Later as a time, earlier as text: an offset, and a fraction ("." sorts before "Z").
EARLIER_BY_TEXT_PAIRS = [
    ("2026-01-01T10:00:00+02:00", "2026-01-01T09:00:00Z"),
    ("2026-01-01T10:00:00Z", "2026-01-01T10:00:00.500Z"),
]


def test_created_at_is_an_aware_datetime() -> None:
    deployment = ObservedDeployment(id="d", status="success", created_at="2026-01-01T10:00:00Z")
    assert deployment.created_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    naive = ObservedDeployment(id="d", status="success", created_at="2026-01-01T10:00:00")
    assert naive.created_at == datetime(2026, 1, 1, 10, tzinfo=UTC)


def test_missing_or_unreadable_times_are_none_and_sort_first() -> None:
    assert ObservedDeployment(id="d", status="success").created_at is None
    assert ObservedDeployment(id="d", status="success", created_at="").created_at is None
    assert ObservedDeployment(id="d", status="success", created_at="soon").created_at is None
    assert parse_timestamp(None) is None
    assert parse_timestamp(42) is None
    assert timestamp_order("soon") < timestamp_order("0001-01-02T00:00:00Z")


def test_latest_deployment_is_the_latest_in_time_not_in_text() -> None:
    for older, newer in EARLIER_BY_TEXT_PAIRS:
        assert newer < older  # as text the newer one sorts first
        service = ObservedService(
            id="s",
            type="web",
            environment="production",
            deployments=(
                ObservedDeployment(id="old", status="success", created_at=older),
                ObservedDeployment(id="new", status="failed", created_at=newer),
            ),
        )
        latest = service.latest_deployment()
        assert latest is not None and latest.id == "new"
        successful = service.latest_successful_deployment()
        assert successful is not None and successful.id == "old"


def _deployment(id_: str, created_at: str) -> Deployment:
    return Deployment.model_validate({"id": id_, "status": "success", "created_at": created_at})


def test_refresh_keeps_the_newest_deployments_newest_first() -> None:
    assert DEPLOYMENT_HISTORY == 10
    rows = [_deployment(f"d{i:02d}", f"2026-01-01T10:{i:02d}:00Z") for i in range(12)]
    shuffled = rows[5:] + rows[:5]
    kept = newest_deployments(shuffled, DEPLOYMENT_HISTORY)
    assert [d.id for d in kept] == [f"d{i:02d}" for i in range(11, 1, -1)]


def test_refresh_orders_by_time_not_by_text() -> None:
    for older, newer in EARLIER_BY_TEXT_PAIRS:
        kept = newest_deployments([_deployment("old", older), _deployment("new", newer)], 1)
        assert [d.id for d in kept] == ["new"]
