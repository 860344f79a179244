"""What every handler works with: the run's inputs, the gateway, and the ids learned so far.

One `ApplyContext` lives for one apply run. Handlers read the desired state from it and write
back what they discover (a created project's id, a service's id, a database's credentials) so
that later actions in the graph find them. The context never prints: progress goes through
`ApplyHooks`, facts for the audit log through `log()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import SecretStr

from opendeploy_plan.apply.errors import ApplyError
from opendeploy_plan.apply.polling import PollPolicy
from opendeploy_plan.apply.scheduler import StepResult
from opendeploy_plan.auditlog import AuditLog
from opendeploy_plan.gateway import GatewayClient, Service
from opendeploy_plan.plan import DesiredState, Plan, PlannedAction, unread_dependency_env
from opendeploy_plan.source import Selection
from opendeploy_plan.state.model import ObservedService, ObservedState
from opendeploy_plan.state.refresh import in_environment

__all__ = [
    "ApplyContext",
    "ApplyHooks",
    "ApplyInputs",
    "ServiceOutcomeRecord",
    "SilentHooks",
]


class ApplyHooks(Protocol):
    """The one seam between the executor and whoever shows progress."""

    def action_started(self, action: PlannedAction) -> None: ...

    def action_progress(self, action: PlannedAction, message: str) -> None: ...

    def action_finished(self, action: PlannedAction, result: StepResult) -> None: ...


class SilentHooks:
    """Hooks that show nothing (tests, `--json`)."""

    def action_started(self, action: PlannedAction) -> None:
        return None

    def action_progress(self, action: PlannedAction, message: str) -> None:
        return None

    def action_finished(self, action: PlannedAction, result: StepResult) -> None:
        return None


@dataclass(frozen=True)
class ApplyInputs:
    """What apply needs besides the plan: the desired state it was made from (with real secret
    values), the observed state, where the source lives, and this run's id."""

    plan: Plan
    desired: DesiredState
    observed: ObservedState
    manifest_dir: Path
    run_id: str
    git_token: str | None = field(default=None, repr=False)
    manifest_path: Path | None = None
    # Dotenv files the manifest reads secrets from: never in the archive, whatever their names.
    secret_files: tuple[str, ...] = ()
    # What planning selected, to name what changed when the archive's digest differs.
    planned_selection: Selection | None = None


@dataclass
class ServiceOutcomeRecord:
    """What happened to one service's deployment in this run."""

    deployment_id: str = ""
    status: str = ""
    url: str = ""


@dataclass
class ApplyContext:
    """The shared state of one run. Built from the observed state, then grown by handlers."""

    client: GatewayClient
    inputs: ApplyInputs
    hooks: ApplyHooks
    audit: AuditLog | None
    # How deployments are watched (backoff), and the fixed intervals of the two other waits.
    poll: PollPolicy
    dependency_poll_seconds: float
    domain_poll_seconds: float
    project_id: str | None = None
    region_id: str | None = None
    service_ids: dict[str, str] = field(default_factory=dict)
    live_services: dict[str, ObservedService] = field(default_factory=dict)
    dependency_ids: dict[str, str] = field(default_factory=dict)
    dependency_env: dict[str, dict[str, SecretStr]] = field(default_factory=dict)
    # The upload bound by `project.source` in this run, reused by every deployment.
    temp_file_path: str = ""
    deployments: dict[str, ServiceOutcomeRecord] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        client: GatewayClient,
        inputs: ApplyInputs,
        *,
        hooks: ApplyHooks,
        audit: AuditLog | None,
        poll: PollPolicy,
        dependency_poll_seconds: float,
        domain_poll_seconds: float,
    ) -> ApplyContext:
        """A context seeded with what refresh observed."""
        observed = inputs.observed
        project = observed.project
        return cls(
            client=client,
            inputs=inputs,
            hooks=hooks,
            audit=audit,
            poll=poll,
            dependency_poll_seconds=dependency_poll_seconds,
            domain_poll_seconds=domain_poll_seconds,
            project_id=project.id if project else None,
            region_id=project.region_id if project else None,
            service_ids={name: s.id for name, s in observed.services.items()},
            live_services=dict(observed.services),
            dependency_ids={key: d.id for key, d in observed.dependencies.items()},
            dependency_env=unread_dependency_env(
                {key: d.env_vars for key, d in observed.dependencies.items() if d.env_vars},
                [key for key, d in observed.dependencies.items() if not d.env_vars],
                {name: (svc.env, svc.uses) for name, svc in inputs.desired.services.items()},
                {name: svc.env for name, svc in observed.services.items()},
                types={key: dep.type for key, dep in inputs.desired.dependencies.items()},
            ),
        )

    @property
    def desired(self) -> DesiredState:
        return self.inputs.desired

    def require_project(self) -> str:
        if self.project_id is None:
            raise ApplyError("the project does not exist (its creation did not happen)")
        return self.project_id

    def service_id(self, name: str) -> str:
        service_id = self.service_ids.get(name)
        if service_id is None:
            raise ApplyError(f"service.{name} does not exist (its creation did not happen)")
        return service_id

    def in_environment(self, row_environment: str) -> bool:
        return in_environment(row_environment, self.desired.environment)

    async def find_service(self, project_id: str, name: str) -> Service | None:
        """The service called `name` *in this environment*: a project may hold a staging and a
        production `web`, and only this environment's row is ours to adopt or to delete."""
        rows = await self.client.list_services(project_id)
        return next(
            (s for s in rows if s.name == name and self.in_environment(s.environment)), None
        )

    def progress(self, action: PlannedAction, message: str) -> None:
        self.hooks.action_progress(action, message)

    def build_log(self, action: PlannedAction, line: str) -> None:
        """A line of a build's log, for hooks that show it (an optional `action_log`)."""
        show = getattr(self.hooks, "action_log", None)
        if show is not None:
            show(action, line)

    def log(self, step: str, *, level: str = "info", **fields: Any) -> None:
        if self.audit is None:
            return
        if level == "error":
            self.audit.error(step, **fields)
        else:
            self.audit.info(step, **fields)
