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
from opendeploy_plan.runtime.databases import (
    Credentials,
    DatabaseFailed,
    DatabaseManager,
    DatabaseUnavailable,
    RunningDatabase,
    find_postgres,
    find_redis,
)
from opendeploy_plan.runtime.engine import (
    DeployRequest,
    LocalDeployment,
    LocalRuntime,
    Outcome,
    Release,
    rewrite_start_command,
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
    "Credentials",
    "DatabaseFailed",
    "DatabaseManager",
    "DatabaseUnavailable",
    "DeployRequest",
    "HealthResult",
    "LocalDeployment",
    "LocalRuntime",
    "LogStream",
    "Outcome",
    "ProcessLedger",
    "Release",
    "Router",
    "RunAs",
    "RunningDatabase",
    "RuntimeLogLine",
    "ServiceSettings",
    "StaticSite",
    "Supervised",
    "Toolchains",
    "Upstream",
    "find_postgres",
    "find_redis",
    "free_port",
    "plan_build",
    "rewrite_start_command",
    "route_key",
    "unprivileged_user",
    "wait_until_healthy",
]
