"""The local runtime: what the local gateway runs when a deployment is real, not simulated.

Builds with the host's toolchains (`builder`), runs each process under its own watchdog
(`supervisor`), checks health (`health`), streams output (`logs`), starts real PostgreSQL and
Redis (`databases`) and serves every service on one loopback port by host name (`router`).
Nothing here knows the emulator; the emulator's bridge drives it.
"""

from __future__ import annotations

from opendeploy_plan.runtime.builder import (
    Artifact,
    Builder,
    BuildFailed,
    BuildPlan,
    BuildUnsupported,
    ServiceSettings,
    plan_build,
)
from opendeploy_plan.runtime.health import HealthResult, wait_until_healthy
from opendeploy_plan.runtime.logs import LogStream, RuntimeLogLine
from opendeploy_plan.runtime.ports import free_port
from opendeploy_plan.runtime.router import Router, StaticSite, Upstream, route_key
from opendeploy_plan.runtime.supervisor import (
    ProcessLedger,
    RunAs,
    Supervised,
    unprivileged_user,
)
from opendeploy_plan.runtime.toolchains import Toolchains

__all__ = [
    "Artifact",
    "BuildFailed",
    "BuildPlan",
    "BuildUnsupported",
    "Builder",
    "HealthResult",
    "LogStream",
    "ProcessLedger",
    "Router",
    "RunAs",
    "RuntimeLogLine",
    "ServiceSettings",
    "StaticSite",
    "Supervised",
    "Toolchains",
    "Upstream",
    "free_port",
    "plan_build",
    "route_key",
    "unprivileged_user",
    "wait_until_healthy",
]
