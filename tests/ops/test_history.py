"""`odplan deployments` rows (issue 16 item 7): newest first, age, source through rollbacks,
the serving one."""

from __future__ import annotations

from datetime import UTC, datetime

from opendeploy_plan.gateway import Deployment
from opendeploy_plan.ops.history import deployment_rows, format_age, serving_id
from opendeploy_plan.plan.stamp import Stamp, format_stamp

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
STAMP = format_stamp(Stamp("odsrc1:" + "a" * 64, "odsrc1:" + "b" * 64))


def row(id: str, status: str, at: str, description: str = "") -> Deployment:
    return Deployment(id=id, status=status, created_at=at, description=description)


def test_rows_are_newest_first_with_source_and_the_serving_one() -> None:
    rows = deployment_rows(
        [
            row("d1", "rolled_back", "2026-12-03T10:00:00Z", STAMP),
            row("d3", "success", "2026-12-03T11:59:30Z", "Rollback to d1"),
            row("d2", "failed", "2026-12-03T11:00:00+00:00", "by hand"),
        ],
        NOW,
    )

    assert [r.id for r in rows] == ["d3", "d2", "d1"]
    assert [r.serving for r in rows] == [True, False, False]
    assert rows[0].source == "odsrc1:bbbbbbbbbbbb" and rows[0].note == "rollback to d1"
    assert rows[1].source == "" and rows[1].note == "no odplan stamp"
    assert [r.age for r in rows] == ["30s", "1h", "2h"]


def test_serving_is_the_newest_success() -> None:
    assert serving_id([row("a", "success", "2026-01-01T00:00:00Z")]) == "a"
    assert serving_id([row("a", "failed", "2026-01-01T00:00:00Z")]) == ""
    newer = [row("a", "success", "2026-01-01T00:00:00Z"), row("b", "success", "2026-01-02")]
    assert serving_id(newer) == "b"


def test_format_age() -> None:
    assert format_age("2026-12-01T12:00:00Z", NOW) == "2d"
    assert format_age("2026-12-03T11:58:00Z", NOW) == "2m"
    assert format_age("", NOW) == "?"
