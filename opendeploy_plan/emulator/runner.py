"""The seam where a deployment is carried out.

The resource model (`deployments.py`, rows in the SQLite store) is the single source of truth:
it validates a deployment, writes its row and answers every read. What actually *happens* to
a deployment -- a build, a rollout, their log lines -- is the runner's business, behind the
small `DeploymentRunner` protocol:

- `start(order)` begins carrying out a new deployment and returns a JSON-able run record that
  the resource model stores with the row (the `timeline` column) and hands back on every read;
- `observe(record, now)` reports status, progress and completion at a clock instant;
- `log_lines(record, now)` reports the build/deploy log lines visible at that instant
  (`None`: the deployment failed before any log existed);
- `service_log_lines(service_id, now)` reports a service's runtime output (what its serving
  release printed), or `None` when nothing of it runs for real (then the resource model shows
  the simulation's line per successful deployment);
- `cancel(record, now)` is told when a user cancels (the row's `cancelled_at` is already set);
- `stop(deployment_id)` is told when the deployment's service or project is deleted.

`SimulatedRunner` is the one implementation today: it scripts the phases by the clock
(`lifecycle.py`), so `observe` is a pure function of the record and the time (no I/O). A
`local` runtime that really builds and runs processes sits beside it as its own room and
implements the same protocol, reading the same resource model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from opendeploy_plan.emulator import lifecycle
from opendeploy_plan.emulator.common import ts
from opendeploy_plan.emulator.config import EmulatorConfig
from opendeploy_plan.emulator.faults import DeploymentFault, DeploymentFaultBook


@dataclass(frozen=True)
class DeploymentOrder:
    """What to carry out: one service of one project, from the project's bound source."""

    deployment_id: str
    service_id: str
    service_name: str
    environment: str
    source_root: str  # "" when the project never had update-source
    spec: dict[str, Any]
    needs_analysis: bool
    is_rollback: bool


@dataclass(frozen=True)
class DeploymentRecord:
    """A stored deployment as the runner sees it: its run record and the user's interventions."""

    id: str
    created_at: float
    cancelled_at: float | None
    rolled_back_at: float | None
    run: dict[str, Any]

    @staticmethod
    def from_row(row: Any) -> DeploymentRecord:
        return DeploymentRecord(
            id=row["id"],
            created_at=row["created_at"],
            cancelled_at=row["cancelled_at"],
            rolled_back_at=row["rolled_back_at"],
            run=json.loads(row["timeline"]),
        )


@dataclass(frozen=True)
class Observation:
    """A deployment at one instant. `error_msg`/`error_phase` are meaningful when failed."""

    status: str
    progress: int
    completed_at: float | None
    error_msg: str = ""
    error_phase: str = "pending"


LogEntry = tuple[float, dict[str, str]]


class DeploymentRunner(Protocol):
    """Carries deployments out; see the module docstring for the contract."""

    def start(self, order: DeploymentOrder) -> dict[str, Any]: ...

    def observe(self, record: DeploymentRecord, now: float) -> Observation: ...

    def log_lines(self, record: DeploymentRecord, now: float) -> list[LogEntry] | None: ...

    def service_log_lines(self, service_id: str, now: float) -> list[LogEntry] | None: ...

    def cancel(self, record: DeploymentRecord, now: float) -> None: ...

    def stop(self, deployment_id: str) -> None: ...


def observe_simulated(record: DeploymentRecord, now: float) -> Observation:
    """Status, progress and completion of a simulated deployment: a pure function of the
    record (its timeline, cancel and rollback marks) and the clock."""
    timeline = lifecycle.Timeline.from_json(record.run)
    created = record.created_at
    cancelled = record.cancelled_at
    phases = record.run["phases"]
    last_phase = str(phases[-1][0]) if phases else "pending"
    error = Observation("", 0, None, timeline.error_msg, last_phase)
    if cancelled is not None:
        seen = lifecycle.observe(timeline, cancelled - created)
        if seen.completed_offset is None and now >= cancelled:
            return _with(error, "cancelled", seen.progress, cancelled)
    seen = lifecycle.observe(timeline, now - created)
    completed = None if seen.completed_offset is None else created + seen.completed_offset
    if seen.status == "success" and record.rolled_back_at is not None:
        return _with(error, "rolled_back", 100, completed)
    return _with(error, seen.status, seen.progress, completed)


def _with(base: Observation, status: str, progress: int, completed: float | None) -> Observation:
    return Observation(status, progress, completed, base.error_msg, base.error_phase)


def simulated_log_lines(record: DeploymentRecord, now: float) -> list[LogEntry] | None:
    """The timeline's log lines visible at `now` (cut at a cancel, which adds its own line)."""
    timeline = lifecycle.Timeline.from_json(record.run)
    created = record.created_at
    elapsed = now - created
    cancelled = record.cancelled_at
    cut = elapsed if cancelled is None else min(elapsed, cancelled - created)
    lines = lifecycle.visible_logs(timeline, cut)
    if lines is None:
        return None
    out: list[LogEntry] = [
        (
            created + x.offset,
            {
                "timestamp": ts(created + x.offset),
                "level": x.level,
                "phase": x.phase,
                "message": x.message,
            },
        )
        for x in lines
    ]
    if cancelled is not None and observe_simulated(record, now).status == "cancelled":
        out.append(
            (
                cancelled,
                {
                    "timestamp": ts(cancelled),
                    "level": "warn",
                    "phase": "cancelled",
                    "message": "Deployment cancelled by user",
                },
            )
        )
    return out


class SimulatedRunner:
    """Scripts each deployment's phases and logs by the clock; honours forced faults."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.faults = DeploymentFaultBook()

    def durations(self) -> lifecycle.Durations:
        c = self.config
        return lifecycle.Durations(
            c.pending_seconds,
            c.analyze_seconds,
            c.build_seconds,
            c.deploy_seconds,
            c.instant_fail_seconds,
        )

    def start(self, order: DeploymentOrder) -> dict[str, Any]:
        if not order.source_root:
            return lifecycle.instant_failure(self.durations()).to_json()
        fault = self.faults.take(order.service_id, order.service_name)
        return lifecycle.plan_timeline(self.durations(), _facts(order, fault)).to_json()

    def observe(self, record: DeploymentRecord, now: float) -> Observation:
        return observe_simulated(record, now)

    def log_lines(self, record: DeploymentRecord, now: float) -> list[LogEntry] | None:
        return simulated_log_lines(record, now)

    def service_log_lines(self, service_id: str, now: float) -> list[LogEntry] | None:
        """Nothing runs: the resource model shows the simulated runtime line."""
        return None

    def cancel(self, record: DeploymentRecord, now: float) -> None:
        """Nothing to do: the row's `cancelled_at` cuts the timeline when it is observed."""

    def stop(self, deployment_id: str) -> None:
        """Nothing runs, so nothing to stop."""


def _facts(order: DeploymentOrder, fault: DeploymentFault | None) -> lifecycle.BuildFacts:
    spec = order.spec
    return lifecycle.BuildFacts(
        deployment_id=order.deployment_id,
        service_name=order.service_name,
        environment=order.environment,
        source_root=order.source_root,
        service_source_path=spec["source_path"],
        language=spec["language"],
        framework=spec["framework"],
        dockerfile_path=spec["dockerfile_path"],
        replicas=spec["replicas"],
        resources=f"cpu={spec['cpu_request']}/{spec['cpu_limit']}, "
        f"memory={spec['memory_request']}/{spec['memory_limit']}",
        health_check_path=spec["health_check_path"],
        port=spec["port"],
        needs_analysis=order.needs_analysis,
        is_rollback=order.is_rollback,
        source_problem=source_problem(order.source_root, spec),
        forced_phase=fault.phase if fault and fault.mode == "fail" else None,
        forced_logs=fault.logs if fault else (),
        forced_error=fault.error_msg if fault else "",
        stall_phase=fault.phase if fault and fault.mode == "stall" else None,
    )


def source_problem(source_root: str, spec: dict[str, Any]) -> str | None:
    """Why the build would fail on this source (missing folder or Dockerfile), if it would."""
    root = Path(source_root)
    folder = root / spec["source_path"] if spec["source_path"] else root
    if not folder.is_dir():
        present = sorted(p.name for p in root.iterdir() if p.is_dir())[:10] if root.is_dir() else []
        listing = ", ".join(present) or "no folders"
        return (
            f"source folder {spec['source_path']!r} not found in the project archive "
            f"(archive has: {listing})"
        )
    dockerfile = spec["dockerfile_path"]
    found = dockerfile and ((folder / dockerfile).is_file() or (root / dockerfile).is_file())
    if dockerfile and not spec["dockerfile"] and not found:
        return f"Dockerfile {dockerfile!r} not found in {spec['source_path'] or '.'}"
    return None
