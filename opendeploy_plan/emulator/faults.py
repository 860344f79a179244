"""Injectable faults for tests and benchmarks: latency, 5xx, 429 and lost responses, targeted
by method and route pattern, limited by count or fired at a seeded rate; plus request counts;
and forced deployment outcomes (`DeploymentFault`, parsed and validated here only)."""

from __future__ import annotations

import fnmatch
import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from opendeploy_plan.emulator.errors import EmulatorError

FAULT_KINDS = ("latency", "error", "rate_limit", "lost_response")

# Which backend a gateway route proxies to, named in 5xx bodies (failure-playbook "Any 5xx").
_DOWNSTREAM = (
    ("/api/v1/regions", "cluster-service"),
    ("/api/v1/deployments", "deployment-service"),
    ("/api/v1/dependencies", "build-service"),
    ("/api/v1/billing", "billing-service"),
    ("/api/v1/profile", "user-service"),
    ("/api/v1/client-guests", "gateway"),
)


def downstream_service(path: str) -> str:
    for prefix, service in _DOWNSTREAM:
        if path.startswith(prefix):
            return service
    if "/deployments" in path:
        return "deployment-service"
    return "project-service"


class LostResponse(ConnectionResetError, EmulatorError):
    """Raised after a committed change to drop the connection before the body is sent."""


@dataclass
class FaultRule:
    """One fault. `route` is an fnmatch pattern tried against the route template
    (`/api/v1/deployments/{deployment_id}`) and the concrete path; `count` is how many more
    times it may fire (None: unlimited); `rate` fires it with that probability (seeded)."""

    kind: str
    method: str = "*"
    route: str = "*"
    count: int | None = None
    rate: float = 1.0
    seed: int | None = None
    status: int = 503
    latency_ms: int = 0
    retry_after: int = 1
    message: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    fired: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {FAULT_KINDS}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        self._rng = random.Random(self.seed)

    def matches(self, method: str, template: str, path: str) -> bool:
        if self.method not in ("*", method.upper()):
            return False
        return fnmatch.fnmatchcase(template, self.route) or fnmatch.fnmatchcase(path, self.route)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "method": self.method,
            "route": self.route,
            "count": self.count,
            "rate": self.rate,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "retry_after": self.retry_after,
            "fired": self.fired,
        }


def parse_spec(text: str) -> dict[str, str]:
    """`kind=error,route=/api/v1/deployments/*,count=2` -> a dict (the CLI's fault syntax)."""
    result: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"expected key=value pairs separated by commas, got {item!r}")
        result[key.strip()] = value.strip()
    return result


_INT_FIELDS = ("count", "seed", "status", "latency_ms", "retry_after")  # accepted by from_spec


def fault_from_spec(text: str) -> FaultRule:
    """A `FaultRule` from `kind=...,method=...,route=...,count=...,rate=...` (CLI `--fault`)."""
    fields = parse_spec(text)
    unknown = set(fields) - {"kind", "method", "route", "rate", "message", *_INT_FIELDS}
    if unknown:
        raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
    if "kind" not in fields:
        raise ValueError(f"a fault needs kind= (one of {', '.join(FAULT_KINDS)})")
    try:
        rule = FaultRule(
            kind=fields["kind"],
            method=fields.get("method", "*").upper(),
            route=fields.get("route", "*"),
            rate=float(fields.get("rate", "1")),
            message=fields.get("message", ""),
            count=int(fields["count"]) if "count" in fields else None,
            seed=int(fields["seed"]) if "seed" in fields else None,
            status=int(fields.get("status", "503")),
            latency_ms=int(fields.get("latency_ms", "0")),
            retry_after=int(fields.get("retry_after", "1")),
        )
    except ValueError as exc:
        raise ValueError(f"invalid fault {text!r}: {exc}") from exc
    if not 500 <= rule.status <= 599:
        raise ValueError("status must be a 5xx code")
    return rule


class FaultBook:
    """The active fault rules and the per-route request counter (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._counts: Counter[str] = Counter()

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.describe() for r in self._rules]

    def count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def fire(self, method: str, template: str, path: str) -> tuple[int, FaultRule | None]:
        """Total latency (ms) to add, and the failing rule that fires for this request, if any."""
        latency = 0
        failing: FaultRule | None = None
        with self._lock:
            for rule in list(self._rules):
                if not rule.matches(method, template, path):
                    continue
                if rule.kind != "latency" and failing is not None:
                    continue
                if rule.rate < 1.0 and rule._rng.random() >= rule.rate:
                    continue
                rule.fired += 1
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                if rule.kind == "latency":
                    latency += rule.latency_ms
                else:
                    failing = rule
        return latency, failing


DEPLOYMENT_FAULT_PHASES = {
    "fail": ("build", "deploy"),
    "stall": ("analyzing", "building", "deploying"),
}


@dataclass
class DeploymentFault:
    """A forced outcome for the next matching deployments (admin API, CLI `--build-fault`).

    Validated on construction (a `ValueError` names the allowed mode/phase pairs), so the admin
    API and the CLI share one rule.
    """

    mode: str  # "fail" or "stall"
    phase: str  # fail: "build" | "deploy"; stall: "analyzing" | "building" | "deploying"
    service: str | None = None
    logs: tuple[str, ...] = ()
    error_msg: str = ""
    remaining: int | None = 1
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        allowed = DEPLOYMENT_FAULT_PHASES
        if self.mode not in allowed or self.phase not in allowed[self.mode]:
            raise ValueError(f"mode/phase must be one of {allowed}")


def deployment_fault_from_spec(text: str) -> DeploymentFault:
    """`mode=fail,phase=build,service=web,log=npm ERR! x,error=...,count=1` (CLI `--build-fault`).

    `log` may repeat (`log=a,log=b` is not possible with a dict, so lines are split on `|`).
    """
    fields = parse_spec(text)
    unknown = set(fields) - {"mode", "phase", "service", "log", "error", "count"}
    if unknown:
        raise ValueError(f"unknown build-fault field(s): {', '.join(sorted(unknown))}")
    count = fields.get("count")
    return DeploymentFault(
        mode=fields.get("mode", "fail"),
        phase=fields.get("phase", "build"),
        service=fields.get("service") or None,
        logs=tuple(x for x in fields.get("log", "").split("|") if x),
        error_msg=fields.get("error", ""),
        remaining=None if count in (None, "", "unlimited") else int(count),
    )


class DeploymentFaultBook:
    """The pending forced outcomes; each deployment takes the first one matching its service."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[DeploymentFault] = []

    def add(self, fault: DeploymentFault) -> str:
        with self._lock:
            self._faults.append(fault)
        return fault.id

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, service_id: str, service_name: str) -> DeploymentFault | None:
        with self._lock:
            for fault in self._faults:
                if fault.service not in (None, service_id, service_name):
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None
