"""A service's deployments as `odplan deployments` and `odplan status` show them: id, status,
age, the source digest its stamp names (followed through rollbacks) and which one serves.

Pure: deployments and the current time in, rows out. "Serving" is the newest deployment that
ended `success`: the platform routes traffic to it (a rollback is itself a new successful
deployment, and the one it replaced turns `rolled_back`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from opendeploy_plan.plan import parse_stamp, rollback_target_id, source_stamp
from opendeploy_plan.timestamps import parse_timestamp, timestamp_order

__all__ = ["DeploymentRow", "deployment_rows", "format_age", "serving_id"]

_DIGEST_SHOWN = 12


@dataclass(frozen=True)
class DeploymentRow:
    """One line of `odplan deployments`. `source` is the service's source digest from the
    stamp ("" when unknown); `note` says how it is known (`rollback to <id>`, `no stamp`)."""

    id: str
    status: str
    created_at: str
    age: str
    source: str
    serving: bool
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def serving_id(deployments: Sequence[Any]) -> str:
    """The id of the newest deployment that ended `success` ("" when none did). Takes any rows
    with `id`, `status` and `created_at` (gateway `Deployment`s or observed ones)."""
    successful = [d for d in deployments if d.status == "success"]
    if not successful:
        return ""
    return str(max(successful, key=lambda d: timestamp_order(d.created_at)).id)


def format_age(created_at: object, now: datetime) -> str:
    """`45s`, `12m`, `3h`, `5d` since `created_at`; `?` when it cannot be read."""
    moment = parse_timestamp(created_at)
    if moment is None:
        return "?"
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _short(digest: str) -> str:
    algo, sep, hexpart = digest.partition(":")
    return f"{algo}{sep}{hexpart[:_DIGEST_SHOWN]}" if sep else digest[:_DIGEST_SHOWN]


def deployment_rows(deployments: Sequence[Any], now: datetime | None = None) -> list[DeploymentRow]:
    """The rows, newest first."""
    now = now or datetime.now(UTC)
    ordered = sorted(deployments, key=lambda d: timestamp_order(d.created_at), reverse=True)
    descriptions = {d.id: d.description for d in ordered}
    serving = serving_id(ordered)
    rows = []
    for deployment in ordered:
        stamp = source_stamp(deployment.description, descriptions.get)
        target = rollback_target_id(deployment.description)
        if target is not None:
            note = f"rollback to {target}"
        elif parse_stamp(deployment.description) is None:
            note = "no odplan stamp"
        else:
            note = ""
        created = deployment.created_at
        rows.append(
            DeploymentRow(
                id=deployment.id,
                status=deployment.status,
                created_at=created if isinstance(created, str) else _iso(created),
                age=format_age(created, now),
                source=_short(stamp.service_digest) if stamp is not None else "",
                serving=deployment.id == serving,
                note=note,
            )
        )
    return rows


def _iso(value: object) -> str:
    moment = parse_timestamp(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else ""
