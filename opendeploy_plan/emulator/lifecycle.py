"""Deployment lifecycle as a pure function of time: a timeline is fixed when the deployment is
created, and status, progress and visible logs are read off it at any clock instant."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROGRESS_AT_WORKFLOW_START = 10
_BUILD_SPAN = (10, 60)
_DEPLOY_SPAN = (60, 95)


@dataclass(frozen=True)
class Phase:
    name: str
    start: float
    end: float


@dataclass(frozen=True)
class LogLine:
    offset: float
    level: str
    phase: str
    message: str


@dataclass(frozen=True)
class Timeline:
    """What a deployment will do, as offsets (seconds) from its creation.

    `outcome` is `success`, `failed` or `stall` (stays in its last phase forever);
    `logs is None` marks the pre-build instant failure, whose logs endpoint returns `null`.
    """

    phases: tuple[Phase, ...]
    outcome: str
    end: float
    error_msg: str = ""
    fail_progress: int = 0
    logs: tuple[LogLine, ...] | None = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "phases": [[p.name, p.start, p.end] for p in self.phases],
            "outcome": self.outcome,
            "end": self.end,
            "error_msg": self.error_msg,
            "fail_progress": self.fail_progress,
            "logs": None
            if self.logs is None
            else [[x.offset, x.level, x.phase, x.message] for x in self.logs],
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Timeline:
        logs = data["logs"]
        return Timeline(
            phases=tuple(Phase(str(n), float(s), float(e)) for n, s, e in data["phases"]),
            outcome=str(data["outcome"]),
            end=float(data["end"]),
            error_msg=str(data["error_msg"]),
            fail_progress=int(data["fail_progress"]),
            logs=None
            if logs is None
            else tuple(LogLine(float(o), lv, p, m) for o, lv, p, m in logs),
        )


@dataclass(frozen=True)
class Durations:
    pending: float
    analyze: float
    build: float
    deploy: float
    instant_fail: float


@dataclass(frozen=True)
class BuildFacts:
    """What the build would find, checked when the deployment is created."""

    deployment_id: str
    service_name: str
    environment: str
    source_root: str
    service_source_path: str
    language: str
    framework: str
    dockerfile_path: str
    replicas: int
    resources: str
    health_check_path: str
    port: int | None
    needs_analysis: bool
    is_rollback: bool = False
    source_problem: str | None = None
    forced_phase: str | None = None
    forced_logs: tuple[str, ...] = ()
    forced_error: str = ""
    stall_phase: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def instant_failure(d: Durations) -> Timeline:
    """The platform's signature when a project never had update-source: progress 10, no logs."""
    return Timeline(
        phases=(Phase("pending", 0.0, d.instant_fail),),
        outcome="failed",
        end=d.instant_fail,
        error_msg="Service failed to deploy",
        fail_progress=PROGRESS_AT_WORKFLOW_START,
        logs=None,
    )


def plan_timeline(d: Durations, facts: BuildFacts) -> Timeline:
    """Lay out phases and log lines for a deployment whose project has a bound source."""
    phases: list[Phase] = []
    logs: list[LogLine] = []
    t = 0.0

    def add(phase: str, offset: float, message: str, level: str = "info") -> None:
        logs.append(LogLine(offset, level, phase, message))

    phases.append(Phase("pending", t, t + d.pending))
    add("pending", 0.0, f"Deployment {facts.deployment_id} queued")
    t += d.pending
    if facts.needs_analysis and not facts.is_rollback:
        phases.append(Phase("analyzing", t, t + d.analyze))
        add("analyzing", t, "Project has no analyze_config; running server-side analysis")
        if facts.stall_phase == "analyzing":
            return Timeline(tuple(phases), "stall", float("inf"), logs=tuple(logs))
        t += d.analyze
    if not facts.is_rollback:
        phases.append(Phase("building", t, t + d.build))
        folder = facts.service_source_path or "."
        add("building", t, f"==> Building service {facts.service_name}")
        add("building", t + d.build * 0.02, f"Reading source from {folder} in the project archive")
        if facts.source_problem is not None:
            fail_at = t + d.build * 0.1
            add("building", fail_at, f"ERROR: {facts.source_problem}", "error")
            return _failed(phases, logs, fail_at, f"Build failed: {facts.source_problem}")
        if facts.dockerfile_path:
            add("building", t + d.build * 0.05, f"Using Dockerfile {facts.dockerfile_path}")
        else:
            stack = " ".join(x for x in (facts.language, facts.framework) if x) or "auto-detect"
            add("building", t + d.build * 0.05, f"No Dockerfile; building with Railpack ({stack})")
        for i, step in enumerate(("install dependencies", "build application", "export image")):
            add("building", t + d.build * (0.2 + 0.25 * i), f"Step {i + 1}/3 : {step}")
        if facts.stall_phase == "building":
            return Timeline(tuple(phases), "stall", float("inf"), logs=tuple(logs))
        if facts.forced_phase == "build":
            return _forced(phases, logs, t + d.build * 0.5, "building", facts, "Build failed")
        add("building", t + d.build * 0.95, f"Successfully built image for {facts.service_name}")
        t += d.build
    else:
        add("pending", t, "Rollback: reusing the image of the target deployment")
    phases.append(Phase("deploying", t, t + d.deploy))
    add("deploying", t, f"==> Deploying {facts.service_name} to {facts.environment}")
    add("deploying", t + d.deploy * 0.1, f"Applying manifests ({facts.resources})")
    add("deploying", t + d.deploy * 0.3, f"Waiting for rollout of {facts.replicas} replica(s)")
    if facts.stall_phase == "deploying":
        return Timeline(tuple(phases), "stall", float("inf"), logs=tuple(logs))
    if facts.forced_phase == "deploy":
        return _forced(phases, logs, t + d.deploy * 0.5, "deploying", facts, "Deploy failed")
    probe = facts.health_check_path or "/"
    port = f":{facts.port}" if facts.port else ""
    add("deploying", t + d.deploy * 0.8, f"Health check {port}{probe} passed")
    end = t + d.deploy
    add("deploying", end, "Deployment successful")
    return Timeline(tuple(phases), "success", end, logs=tuple(logs))


def _failed(phases: list[Phase], logs: list[LogLine], at: float, error: str) -> Timeline:
    progress = progress_at(tuple(phases), at)
    return Timeline(tuple(phases), "failed", at, error, progress, tuple(logs))


def _forced(
    phases: list[Phase],
    logs: list[LogLine],
    at: float,
    phase: str,
    facts: BuildFacts,
    default_error: str,
) -> Timeline:
    step = (at - phases[-1].start) / max(len(facts.forced_logs), 1) / 10
    for i, line in enumerate(facts.forced_logs):
        logs.append(LogLine(at + i * step, "error", phase, line))
    end = at + len(facts.forced_logs) * step
    return _failed(phases, logs, end, facts.forced_error or default_error)


def progress_at(phases: tuple[Phase, ...], offset: float) -> int:
    """0 while pending, 5 analyzing, 10-60 building, 60-95 deploying (linear in time)."""
    current = phase_at(phases, offset)
    if current is None:
        return 0
    if current.name == "pending":
        return 0
    if current.name == "analyzing":
        return 5
    low, high = _BUILD_SPAN if current.name == "building" else _DEPLOY_SPAN
    span = current.end - current.start
    fraction = 1.0 if span <= 0 else min(max((offset - current.start) / span, 0.0), 1.0)
    return int(low + (high - low) * fraction)


def phase_at(phases: tuple[Phase, ...], offset: float) -> Phase | None:
    chosen: Phase | None = None
    for phase in phases:
        if phase.start <= offset:
            chosen = phase
    return chosen


@dataclass(frozen=True)
class Observed:
    status: str
    progress: int
    completed_offset: float | None


def observe(timeline: Timeline, elapsed: float) -> Observed:
    """Status and progress `elapsed` seconds after creation (before any cancel/rollback)."""
    if timeline.outcome != "stall" and elapsed >= timeline.end:
        if timeline.outcome == "success":
            return Observed("success", 100, timeline.end)
        return Observed("failed", timeline.fail_progress, timeline.end)
    phase = phase_at(timeline.phases, elapsed)
    name = phase.name if phase else "pending"
    return Observed(name, progress_at(timeline.phases, elapsed), None)


def visible_logs(timeline: Timeline, elapsed: float) -> list[LogLine] | None:
    if timeline.logs is None:
        return None
    return [line for line in timeline.logs if line.offset <= elapsed]
