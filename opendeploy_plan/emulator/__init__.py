"""The local opendeploy gateway: the platform as documented, runnable offline (FastAPI + SQLite).

Standalone: imports `opendeploy_plan.platform` and nothing else of ours.
"""

from __future__ import annotations

from opendeploy_plan.emulator.app import create_app
from opendeploy_plan.emulator.clock import Clock, ManualClock, SystemClock
from opendeploy_plan.emulator.config import EmulatorConfig
from opendeploy_plan.emulator.errors import EmulatorError, PlatformError
from opendeploy_plan.emulator.faults import DeploymentFault, FaultRule, LostResponse
from opendeploy_plan.emulator.runner import (
    DeploymentOrder,
    DeploymentRecord,
    DeploymentRunner,
    LogEntry,
    Observation,
    SimulatedRunner,
)
from opendeploy_plan.emulator.state import Emulator
from opendeploy_plan.emulator.tenancy import Principal

__all__ = [
    "Clock",
    "DeploymentFault",
    "DeploymentOrder",
    "DeploymentRecord",
    "DeploymentRunner",
    "Emulator",
    "EmulatorConfig",
    "EmulatorError",
    "FaultRule",
    "LogEntry",
    "LostResponse",
    "ManualClock",
    "Observation",
    "PlatformError",
    "Principal",
    "SimulatedRunner",
    "SystemClock",
    "create_app",
]
