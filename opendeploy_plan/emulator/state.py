"""The simulated platform behind one facade: `Emulator` keeps the public methods routes, the
admin API and tests call, and hands each to its resource module (accounts, billing, regions,
projects, services, dependencies, uploads, deployments, domains) over one shared `Context`.

Ownership rules live in `tenancy.py`; what a deployment does is the `DeploymentRunner`'s
(`runner.py`). Nothing here knows about HTTP except the `PlatformError`s the modules raise.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from opendeploy_plan.emulator import (
    accounts,
    billing,
    dependencies,
    deployments,
    domains,
    projects,
    regions,
    services,
    uploads,
)
from opendeploy_plan.emulator.clock import Clock
from opendeploy_plan.emulator.config import EmulatorConfig
from opendeploy_plan.emulator.context import Context, open_context
from opendeploy_plan.emulator.faults import (
    DEPLOYMENT_FAULT_PHASES,
    DeploymentFault,
    deployment_fault_from_spec,
)
from opendeploy_plan.emulator.runner import DeploymentRunner, SimulatedRunner
from opendeploy_plan.emulator.store import Store
from opendeploy_plan.emulator.tenancy import Principal, require_bound

GC_INTERVAL_SECONDS = 60.0

__all__ = [
    "DEPLOYMENT_FAULT_PHASES",
    "DeploymentFault",
    "Emulator",
    "Principal",
    "deployment_fault_from_spec",
]


class Emulator:
    """The platform's state and rules. Thread-safe: each operation is one store transaction."""

    def __init__(self, config: EmulatorConfig, runner: DeploymentRunner | None = None) -> None:
        self.ctx: Context = open_context(config, runner)
        self._last_gc = -math.inf

    # --- the shared context ---------------------------------------------------------------

    @property
    def config(self) -> EmulatorConfig:
        return self.ctx.config

    @property
    def clock(self) -> Clock:
        return self.ctx.clock

    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def data_dir(self) -> Path:
        return self.ctx.data_dir

    @property
    def runner(self) -> DeploymentRunner:
        return self.ctx.runner

    def now(self) -> float:
        return self.ctx.now()

    # --- tokens, users, guests, billing -----------------------------------------------------

    def mint_dashboard_token(
        self, user_id: str | None = None, email: str | None = None, plan: str = "pro"
    ) -> str:
        return accounts.mint_dashboard_token(self.ctx, user_id, email, plan)

    def user_of_token(self, token: str) -> str | None:
        return accounts.user_of_token(self.ctx, token)

    def set_user_plan(self, user_id: str, plan: str | None, quota: dict[str, int]) -> None:
        billing.set_user_plan(self.ctx, user_id, plan, quota)

    def authenticate(self, authorization: str | None) -> Principal:
        """Resolve a Bearer header to a principal, or raise the documented 401."""
        token, kind = accounts.bearer_token(authorization)
        self.maybe_run_gc()
        return accounts.principal_of(self.ctx, token, kind)

    def bind_sig(self, guest_id: str) -> str:
        return accounts.bind_sig(self.ctx, guest_id)

    def register(self, ip: str, user_agent: str, body: dict[str, Any]) -> dict[str, Any]:
        return accounts.register(self.ctx, ip, user_agent, body)

    def guest_status(self, guest_id: str, sig: str) -> dict[str, Any]:
        return accounts.guest_status(self.ctx, guest_id, sig)

    def bind_guest(
        self,
        guest_id: str,
        user_id: str | None = None,
        sig: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """What the dashboard does after SSO: the guest and its projects move to the user."""
        return accounts.bind_guest(self.ctx, guest_id, user_id, sig, name)

    def list_guests(self, who: Principal) -> list[dict[str, Any]]:
        return accounts.list_guests(self.ctx, who)

    def patch_guest(self, who: Principal, guest_id: str, name: str | None) -> dict[str, Any]:
        return accounts.patch_guest(self.ctx, who, guest_id, name)

    def delete_guest(self, who: Principal, guest_id: str) -> dict[str, Any]:
        return accounts.delete_guest(self.ctx, who, guest_id)

    def profile(self, who: Principal) -> dict[str, Any]:
        return billing.profile(self.ctx, who)

    def quota(self, who: Principal) -> dict[str, Any]:
        return billing.quota(self.ctx, who)

    def require_bound(self, who: Principal) -> None:
        require_bound(who)

    # --- GC ---------------------------------------------------------------------------------

    def maybe_run_gc(self) -> None:
        if self.now() - self._last_gc >= GC_INTERVAL_SECONDS:
            self.run_gc()

    def run_gc(self) -> dict[str, list[str]]:
        """Tear down guest projects idle for 6 h, and never-used pending credentials."""
        self._last_gc = self.now()
        return accounts.run_gc(self.ctx)

    # --- regions, git repositories, projects ------------------------------------------------

    def regions(self) -> list[dict[str, Any]]:
        return regions.regions(self.ctx)

    def set_region_status(self, region_id: str, status: str) -> None:
        regions.set_region_status(self.ctx, region_id, status)

    def add_git_repo(self, url: str, data: dict[str, Any]) -> None:
        regions.add_git_repo(self.ctx, url, data)

    def create_project(self, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
        return projects.create_project(self.ctx, who, body)

    def list_projects(self, who: Principal) -> list[dict[str, Any]]:
        return projects.list_projects(self.ctx, who)

    def get_project(self, who: Principal, project_id: str) -> dict[str, Any]:
        return projects.get_project(self.ctx, who, project_id)

    def delete_project(self, who: Principal, project_id: str) -> None:
        projects.delete_project(self.ctx, who, project_id)

    # --- services ---------------------------------------------------------------------------

    def create_service(self, who: Principal, project_id: str, body: dict[str, Any]) -> str:
        return services.create_service(self.ctx, who, project_id, body)

    def list_services(self, who: Principal, project_id: str) -> list[dict[str, Any]]:
        return services.list_services(self.ctx, who, project_id)

    def get_service(self, who: Principal, service_id: str) -> dict[str, Any]:
        return services.get_service(self.ctx, who, service_id)

    def update_service(
        self, who: Principal, service_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        return services.update_service(self.ctx, who, service_id, changes)

    def delete_service(self, who: Principal, service_id: str) -> None:
        services.delete_service(self.ctx, who, service_id)

    def get_env(self, who: Principal, project_id: str, service_id: str) -> dict[str, Any]:
        return services.get_env(self.ctx, who, project_id, service_id)

    def put_env(
        self, who: Principal, project_id: str, service_id: str, variables: dict[str, str]
    ) -> dict[str, Any]:
        return services.put_env(self.ctx, who, project_id, service_id, variables)

    def service_logs(self, who: Principal, project_id: str, service_id: str) -> dict[str, Any]:
        return services.service_logs(self.ctx, who, project_id, service_id)

    # --- dependencies -----------------------------------------------------------------------

    def create_dependency(self, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
        return dependencies.create_dependency(self.ctx, who, body)

    def dependency_status(self, who: Principal, project_id: str) -> dict[str, Any]:
        return dependencies.dependency_status(self.ctx, who, project_id)

    def delete_dependency(self, who: Principal, project_id: str, dependency_id: str) -> None:
        dependencies.delete_dependency(self.ctx, who, project_id, dependency_id)

    def fail_dependency(self, dependency_id: str, reason: str) -> None:
        dependencies.fail_dependency(self.ctx, dependency_id, reason)

    # --- uploads ----------------------------------------------------------------------------

    def new_upload_path(self, filename: str) -> Path:
        return uploads.new_upload_path(self.ctx, filename)

    def check_upload_form(self, who: Principal, fields: dict[str, str]) -> None:
        uploads.check_upload_form(self.ctx, who, fields)

    def record_upload(
        self, who: Principal, path: Path, filename: str, size: int, fields: dict[str, str]
    ) -> dict[str, Any]:
        return uploads.record_upload(self.ctx, who, path, filename, size, fields)

    def expire_upload(self, temp_file_path: str) -> None:
        uploads.expire_upload(self.ctx, temp_file_path)

    def update_source(
        self,
        who: Principal,
        project_id: str,
        temp_file_path: str,
        analysis: dict[str, Any] | None,
    ) -> dict[str, Any]:
        return uploads.update_source(self.ctx, who, project_id, temp_file_path, analysis)

    # --- deployments ------------------------------------------------------------------------

    def add_deployment_fault(self, fault: DeploymentFault) -> str:
        """Force the outcome of the next matching deployments (simulated runner only)."""
        return self._simulation().faults.add(fault)

    def clear_deployment_faults(self) -> None:
        self._simulation().faults.clear()

    def _simulation(self) -> SimulatedRunner:
        runner = self.ctx.runner
        if not isinstance(runner, SimulatedRunner):
            raise TypeError("deployment faults need the simulated runner")
        return runner

    def create_deployment(self, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
        return deployments.create_deployment(self.ctx, who, body)

    def get_deployment(self, who: Principal, deployment_id: str) -> dict[str, Any]:
        return deployments.get_deployment(self.ctx, who, deployment_id)

    def list_deployments(
        self,
        who: Principal,
        project_id: str | None,
        status: str | None,
        service_id: str | None = None,
    ) -> list[dict[str, Any]]:
        return deployments.list_deployments(self.ctx, who, project_id, status, service_id)

    def deployment_logs(
        self, who: Principal, deployment_id: str, tail: int | None, since: str | None
    ) -> dict[str, Any]:
        return deployments.deployment_logs(self.ctx, who, deployment_id, tail, since)

    def log_snapshot(
        self, who: Principal, deployment_id: str
    ) -> tuple[list[dict[str, str]], bool, str]:
        """(visible log lines, terminal?, status) for the streaming endpoints."""
        return deployments.log_snapshot(self.ctx, who, deployment_id)

    def cancel_deployment(self, who: Principal, deployment_id: str) -> dict[str, Any]:
        return deployments.cancel_deployment(self.ctx, who, deployment_id)

    def rollback(self, who: Principal, deployment_id: str) -> dict[str, Any]:
        return deployments.rollback(self.ctx, who, deployment_id)

    # --- domains ----------------------------------------------------------------------------

    def list_domains(
        self, who: Principal, service_id: str, environment: str | None, kind: str | None
    ) -> list[dict[str, Any]]:
        return domains.list_domains(self.ctx, who, service_id, environment, kind)

    def check_subdomain(self, prefix: str, environment: str | None) -> dict[str, Any]:
        return domains.check_subdomain(self.ctx, prefix, environment)

    def rename_subdomain(self, who: Principal, domain_id: str, prefix: str) -> dict[str, Any]:
        return domains.rename_subdomain(self.ctx, who, domain_id, prefix)

    def retry_domain(self, who: Principal, domain_id: str) -> dict[str, Any]:
        return domains.retry_domain(self.ctx, who, domain_id)

    def create_custom_domain(self, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
        return domains.create_custom_domain(self.ctx, who, body)
