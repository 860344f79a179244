"""Apply: execute a plan's action graph against the gateway, verifying every mutation.

`Executor` runs the graph (`scheduler.run_graph`); each action goes to the handler of its
address's resource kind (`handlers.HANDLERS`), which mutates through the gateway, reconciles an
unknown outcome (`reconcile.create_or_find`), reads back (`readback`) and waits
(`polling.poll_until`) where the platform is asynchronous. See docs/apply.md.
"""

from __future__ import annotations

from opendeploy_plan.apply.context import (
    ApplyContext,
    ApplyHooks,
    ApplyInputs,
    ServiceOutcomeRecord,
    SilentHooks,
)
from opendeploy_plan.apply.errors import (
    ApplyError,
    DependencyFailed,
    DeploymentFailed,
    ReadBackMismatch,
    ServiceDeleteUnsupported,
    SourceChanged,
    SubdomainUnavailable,
)
from opendeploy_plan.apply.executor import ApplyResult, Executor
from opendeploy_plan.apply.handlers import HANDLERS, Handler, handler_for
from opendeploy_plan.apply.polling import PollPolicy, PollTimeout, poll_until
from opendeploy_plan.apply.reconcile import create_or_find
from opendeploy_plan.apply.scheduler import Interrupt, RunReport, StepOutcome, StepResult
from opendeploy_plan.apply.watch import DeploymentSnapshot, WatchTimeout, watch_deployment

__all__ = [
    "HANDLERS",
    "ApplyContext",
    "ApplyError",
    "ApplyHooks",
    "ApplyInputs",
    "ApplyResult",
    "DependencyFailed",
    "DeploymentFailed",
    "DeploymentSnapshot",
    "Executor",
    "Handler",
    "Interrupt",
    "PollPolicy",
    "PollTimeout",
    "ReadBackMismatch",
    "RunReport",
    "ServiceDeleteUnsupported",
    "ServiceOutcomeRecord",
    "SilentHooks",
    "SourceChanged",
    "StepOutcome",
    "StepResult",
    "SubdomainUnavailable",
    "WatchTimeout",
    "create_or_find",
    "handler_for",
    "poll_until",
    "watch_deployment",
]
