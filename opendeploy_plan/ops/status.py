"""`odplan status` rows: per service the latest deployment, the one serving traffic, URL,
resources and whether the live service matches the manifest (from the plan's addresses); per
database its key, type, status and whether the manifest names it (a database kept by
`odplan destroy` shows here too). Pure: observed state and plan in."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from opendeploy_plan.ops.history import serving_id
from opendeploy_plan.plan import Plan
from opendeploy_plan.state.model import ObservedService, ObservedState

IN_SYNC = "in sync"
PENDING = "changes pending"
UNMANAGED = "unmanaged"
UNKNOWN = "unknown"
# The local gateway's first log line of a deployment it could only simulate (written by
# emulator/runtime_bridge.py): "... (missing <what>); its deployment is SIMULATED: ...".
_SIMULATED = re.compile(r"\(missing (.+)\); its deployment is SIMULATED")


@dataclass(frozen=True)
class ServiceStatus:
    """One row of the status table."""

    name: str
    deployment_id: str = ""
    status: str = "not deployed"
    progress: int = 0
    url: str = ""
    cpu: str = ""
    memory: str = ""
    replicas: int | None = None
    sync: str = UNKNOWN
    pending: tuple[str, ...] = field(default_factory=tuple)
    # The newest successful deployment: what serves traffic ("" when none succeeded).
    serving_id: str = ""
    # What this machine lacks when the local gateway only simulated the latest deployment.
    simulated: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pending"] = list(self.pending)
        return data


@dataclass(frozen=True)
class DatabaseStatus:
    """One live database: its manifest key (from the row's name or the hint file; the id when
    neither says), type, status and whether the manifest names it (`sync` as for services)."""

    name: str
    id: str
    type: str
    status: str
    sync: str = UNKNOWN

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pair(request: str | None, limit: str | None) -> str:
    if request is None and limit is None:
        return ""
    return f"{request or '-'}/{limit or '-'}"


def _pending(plan: Plan, prefix: str) -> tuple[str, ...]:
    return tuple(
        f"{a.address} ({a.kind.value})"
        for a in plan.actions
        if a.address == prefix or a.address.startswith(prefix + ".")
    )


def project_pending(plan: Plan | None) -> tuple[str, ...]:
    """Actions not about one service (project, source bind, databases)."""
    if plan is None:
        return ()
    return tuple(
        f"{a.address} ({a.kind.value})"
        for a in plan.actions
        if not a.address.startswith("service.")
    )


def _row(
    name: str, live: ObservedService | None, sync: str, pending: tuple[str, ...]
) -> ServiceStatus:
    if live is None:
        return ServiceStatus(name=name, status="not created", sync=sync, pending=pending)
    latest = live.latest_deployment()
    url = live.domain.domain if live.domain else ""
    if url and "://" not in url:
        url = f"https://{url}"
    return ServiceStatus(
        name=name,
        deployment_id=latest.id if latest else "",
        status=latest.status if latest else "not deployed",
        progress=latest.progress if latest else 0,
        url=url,
        cpu=_pair(live.cpu_request, live.cpu_limit),
        memory=_pair(live.memory_request, live.memory_limit),
        replicas=live.replicas if live.replicas is not None else 1,
        sync=sync,
        pending=pending,
        serving_id=serving_id(live.deployments),
    )


def service_rows(
    observed: ObservedState, plan: Plan | None, managed: Collection[str] | None
) -> list[ServiceStatus]:
    """A row per live service, plus the manifest's services not created yet.

    `managed` is the manifest's service names (None without a manifest); `plan` None means the
    sync state is unknown (no manifest, or the plan could not be made).
    """
    rows: list[ServiceStatus] = []
    names = set(observed.services) | set(managed or ())
    for name in sorted(names):
        live = observed.services.get(name)
        if managed is not None and name not in managed:
            rows.append(_row(name, live, UNMANAGED, ()))
        elif plan is None:
            rows.append(_row(name, live, UNKNOWN, ()))
        else:
            pending = _pending(plan, f"service.{name}")
            rows.append(_row(name, live, PENDING if pending else IN_SYNC, pending))
    return rows


def database_rows(
    observed: ObservedState, plan: Plan | None, managed: Mapping[str, str] | None
) -> list[DatabaseStatus]:
    """A row per live database of the environment, by key. `managed`: the manifest's keys and
    their types (None without a manifest: sync unknown); the type shown is the live row's,
    else the manifest's (documented status rows carry none)."""
    rows = []
    for key, dep in sorted(observed.dependencies.items()):
        if managed is None:
            sync = UNKNOWN
        elif key not in managed:
            sync = UNMANAGED
        elif plan is not None and _pending(plan, f"dependency.{key}"):
            sync = PENDING
        else:
            sync = IN_SYNC if plan is not None else UNKNOWN
        kind = dep.type or (managed or {}).get(key, "")
        rows.append(DatabaseStatus(key, dep.id, kind, dep.status, sync))
    return rows


def simulated_because(messages: Iterable[str]) -> str:
    """What the local gateway said it lacks, from a deployment's log messages ("" when the
    deployment really ran, or on any other gateway)."""
    for message in messages:
        if found := _SIMULATED.search(message):
            return found.group(1)
    return ""
