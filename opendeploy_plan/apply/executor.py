"""Execute a plan against the gateway: every action mutates, reads back and compares.

The plan's graph decides the order; `run_graph` runs independent actions in parallel. Each
action goes to the handler of its address's resource kind (`handlers.HANDLERS`); the handlers
share one `ApplyContext` holding the ids learned so far. Creates are never blindly repeated
(`reconcile.create_or_find`). The executor never prints: it reports through `ApplyHooks`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opendeploy_plan.apply.context import (
    ApplyContext,
    ApplyHooks,
    ApplyInputs,
    ServiceOutcomeRecord,
    SilentHooks,
)
from opendeploy_plan.apply.errors import ApplyError
from opendeploy_plan.apply.handlers import handler_for
from opendeploy_plan.apply.handlers.domain import auto_domain_row
from opendeploy_plan.apply.polling import PollPolicy
from opendeploy_plan.apply.scheduler import (
    Interrupt,
    RunReport,
    StepOutcome,
    StepResult,
    run_graph,
)
from opendeploy_plan.auditlog import AuditLog
from opendeploy_plan.gateway import GatewayClient, GatewayError, scrub
from opendeploy_plan.plan import PlannedAction, SecretPart
from opendeploy_plan.plan import addresses as addr

__all__ = [
    "ApplyHooks",
    "ApplyInputs",
    "ApplyResult",
    "Executor",
    "ServiceOutcomeRecord",
    "SilentHooks",
]


@dataclass
class ApplyResult:
    """The scheduler's report plus the ids apply learned (for the final report)."""

    report: RunReport
    project_id: str | None
    deployments: dict[str, ServiceOutcomeRecord]


class Executor:
    """Runs one plan: the graph, the handlers, the live URLs and the audit trail."""

    def __init__(
        self,
        client: GatewayClient,
        inputs: ApplyInputs,
        *,
        hooks: ApplyHooks | None = None,
        audit: AuditLog | None = None,
        poll: PollPolicy | None = None,
        dependency_poll_seconds: float = 0.5,
        domain_poll_seconds: float = 1.0,
    ) -> None:
        self.plan = inputs.plan
        self.context = ApplyContext.start(
            client,
            inputs,
            hooks=hooks or SilentHooks(),
            audit=audit,
            poll=poll or PollPolicy(),
            dependency_poll_seconds=dependency_poll_seconds,
            domain_poll_seconds=domain_poll_seconds,
        )

    async def run(
        self, *, parallelism: int = 10, interrupt: Interrupt | None = None
    ) -> ApplyResult:
        ctx = self.context
        actions = {a.address: a for a in self.plan.actions}
        needs = {a.address: [d for d in a.depends_on if d in actions] for a in self.plan.actions}

        async def step(address: str) -> None:
            action = actions[address]
            ctx.hooks.action_started(action)
            await self.perform(action)

        class _Relay:
            def step_started(_self, name: str) -> None:
                return None

            def step_finished(_self, result: StepResult) -> None:
                ctx.hooks.action_finished(actions[result.name], result)
                self._audit_result(actions[result.name], result)

        report = await run_graph(
            needs, step, parallelism=parallelism, hooks=_Relay(), interrupt=interrupt
        )
        if not report.interrupted:
            await self._await_live_urls(actions)
        return ApplyResult(report, ctx.project_id, ctx.deployments)

    async def perform(self, action: PlannedAction) -> None:
        """Carry out one action through the handler of its resource kind."""
        await handler_for(action.address)(self.context, action)

    async def _await_live_urls(self, actions: Mapping[str, PlannedAction]) -> None:
        """A public service's auto domain row is written a little after its deployment succeeds
        (domain.md: poll up to 30 s). Wait for the rows of this run's deployments, all at once and
        only after the graph finished (so no dependent waits on ingress), so the final report has
        the live URL. Slow ingress wiring is reported, not failed: the deployment did succeed."""
        ctx = self.context
        desired = ctx.desired

        async def one(name: str) -> None:
            action = actions[addr.service_deployment(name)]
            try:
                row = await auto_domain_row(ctx, action, ctx.service_id(name))
            except (ApplyError, GatewayError):
                ctx.progress(action, "deployed; its auto domain is not wired yet")
                return
            ctx.deployments[name].url = f"https://{row.domain}"

        waiting = [
            name
            for name, record in ctx.deployments.items()
            if record.status == "success"
            and not record.url
            and name in desired.services
            and desired.services[name].type in ("web", "static")
            and not desired.services[name].internal_only
            and addr.service_deployment(name) in actions
        ]
        await asyncio.gather(*(one(name) for name in waiting))

    def _known_secret_values(self) -> set[str]:
        """Every secret value this run holds: manifest secrets, dependency env_vars, live env."""
        ctx = self.context
        values: set[str] = set()
        for svc in ctx.desired.services.values():
            for value in (*svc.env.values(), *svc.build_env.values()):
                values.update(
                    p.value.get_secret_value() for p in value.parts if isinstance(p, SecretPart)
                )
        for variables in ctx.dependency_env.values():
            values.update(v.get_secret_value() for v in variables.values())
        for live in ctx.live_services.values():
            values.update(v.get_secret_value() for v in live.env.values())
            values.update(v.get_secret_value() for v in live.build_variables.values())
        return values

    def _audit_result(self, action: PlannedAction, result: StepResult) -> None:
        fields: dict[str, Any] = {"address": action.address, "kind": str(action.kind)}
        if result.outcome is StepOutcome.SUCCEEDED:
            self.context.log("apply.action", outcome="succeeded", **fields)
        else:
            reason = result.reason or (str(result.error) if result.error else "")
            # Gateway text can echo a value back: the audit log never keeps one.
            reason = scrub(reason, self._known_secret_values())
            self.context.log(
                "apply.action", level="error", outcome=result.outcome.value, reason=reason, **fields
            )
