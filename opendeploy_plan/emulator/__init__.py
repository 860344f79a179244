"""The local opendeploy gateway: the platform as documented, runnable offline (FastAPI + SQLite).

Standalone: imports `opendeploy_plan.platform` and nothing else of ours.
"""

from __future__ import annotations

from opendeploy_plan.emulator.app import create_app
from opendeploy_plan.emulator.clock import Clock, ManualClock, SystemClock
from opendeploy_plan.emulator.config import EmulatorConfig
from opendeploy_plan.emulator.faults import FaultRule, LostResponse
from opendeploy_plan.emulator.state import DeploymentFault, Emulator, Principal

__all__ = [
    "Clock",
    "DeploymentFault",
    "Emulator",
    "EmulatorConfig",
    "FaultRule",
    "LostResponse",
    "ManualClock",
    "Principal",
    "SystemClock",
    "create_app",
]
