"""Deployments are ordered by time, not by the text of their timestamps."""

from __future__ import annotations

from opendeploy_plan.gateway import Deployment
from opendeploy_plan.ops.live import newest_first


def _ids(*created: tuple[str, str]) -> list[str]:
    return [d.id for d in newest_first([Deployment(id=i, created_at=c) for i, c in created])]


def test_offsets_are_compared_as_times() -> None:
    # 10:30+02:00 is 08:30Z: older than 09:00Z, though it sorts after it as text.
    assert _ids(("east", "2026-12-01T10:30:00+02:00"), ("utc", "2026-12-01T09:00:00Z")) == [
        "utc",
        "east",
    ]


def test_fractions_of_a_second_are_compared_as_times() -> None:
    assert _ids(("whole", "2026-12-01T09:00:05Z"), ("half", "2026-12-01T09:00:05.5Z")) == [
        "half",
        "whole",
    ]


def test_an_unreadable_time_counts_as_oldest() -> None:
    assert _ids(("bad", "yesterday"), ("ok", "2026-12-01T09:00:00Z"), ("none", "")) == [
        "ok",
        "bad",
        "none",
    ]
