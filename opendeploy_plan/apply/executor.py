"""Execute a plan against the gateway: every action mutates, reads back and compares.

The plan's graph decides the order; `run_graph` runs independent actions in parallel. Creates
are never blindly repeated: when a create's outcome is unknown (lost response, 5xx), the
resource is looked up by name (or, for deployments, by this run's id in the description) before
trying again, so a crash or a flaky network never duplicates anything. The executor never
prints: it reports through `ApplyHooks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import SecretStr

from opendeploy_plan import platform
from opendeploy_plan.apply.errors import (
    ApplyError,
    DependencyFailed,
    DeploymentFailed,
    ReadBackMismatch,
    SourceChanged,
    SubdomainUnavailable,
)
from opendeploy_plan.apply.scheduler import (
    Interrupt,
    RunReport,
    StepOutcome,
    StepResult,
    run_graph,
)
from opendeploy_plan.apply.watch import DeploymentSnapshot, PollPolicy, watch_deployment
from opendeploy_plan.auditlog import AuditLog
from opendeploy_plan.gateway import (
    Conflict,
    Dependency,
    Deployment,
    GatewayClient,
    GatewayError,
    NotFound,
    OutcomeUnknown,
    Service,
    UploadResult,
    scrub,
)
from opendeploy_plan.plan import (
    ActionKind,
    DesiredService,
    DesiredState,
    Plan,
    PlannedAction,
    SecretPart,
    format_stamp,
    resolve_variables,
    service_config_digest,
)
from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.stamp import Stamp
from opendeploy_plan.source import (
    ArchiveInfo,
    Selection,
    build_archive,
    select_files,
)
from opendeploy_plan.state.model import ObservedService, ObservedState
from opendeploy_plan.state.refresh import (
    dependency_key,
    in_environment,
    normal_source_path,
    secret_map,
)

T = TypeVar("T")

# How long to wait for the auto-domain row after a deployment succeeds (domain.md: ≤ 30 s).
DOMAIN_ROW_TIMEOUT = 30.0
DEPENDENCY_READY_TIMEOUT = 15 * 60.0
_QUANTITY_PARSERS: Mapping[str, Callable[[str], int]] = {
    "cpu_request": platform.cpu_millicores,
    "cpu_limit": platform.cpu_millicores,
    "memory_request": platform.memory_bytes,
    "memory_limit": platform.memory_bytes,
}
_DEFAULTS: Mapping[str, Any] = {"replicas": 1, "auto_scaling": False, "internal_only": False}


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
class ApplyResult:
    """The scheduler's report plus the ids apply learned (for the final report)."""

    report: RunReport
    project_id: str | None
    deployments: dict[str, ServiceOutcomeRecord]


class Executor:
    """Runs one plan. Holds the ids discovered while applying (created project, services…)."""

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
        self.client = client
        self.inputs = inputs
        self.plan = inputs.plan
        self.desired = inputs.desired
        self.hooks = hooks or SilentHooks()
        self.audit = audit
        self.poll = poll or PollPolicy()
        self.dependency_poll_seconds = dependency_poll_seconds
        self.domain_poll_seconds = domain_poll_seconds
        observed = inputs.observed
        project = observed.project
        self.project_id: str | None = project.id if project else None
        self.region_id: str | None = project.region_id if project else None
        self.service_ids = {name: s.id for name, s in observed.services.items()}
        self.live_services = dict(observed.services)
        self.dependency_ids = {key: d.id for key, d in observed.dependencies.items()}
        self.dependency_env: dict[str, dict[str, SecretStr]] = {
            key: dict(d.env_vars) for key, d in observed.dependencies.items()
        }
        self.temp_file_path = ""
        self.deployments: dict[str, ServiceOutcomeRecord] = {}

    async def run(
        self, *, parallelism: int = 10, interrupt: Interrupt | None = None
    ) -> ApplyResult:
        actions = {a.address: a for a in self.plan.actions}
        needs = {a.address: [d for d in a.depends_on if d in actions] for a in self.plan.actions}

        async def step(address: str) -> None:
            action = actions[address]
            self.hooks.action_started(action)
            await self.perform(action)

        class _Relay:
            def step_started(_self, name: str) -> None:
                return None

            def step_finished(_self, result: StepResult) -> None:
                self.hooks.action_finished(actions[result.name], result)
                self._audit_result(actions[result.name], result)

        report = await run_graph(
            needs, step, parallelism=parallelism, hooks=_Relay(), interrupt=interrupt
        )
        if not report.interrupted:
            await self._await_live_urls(actions)
        return ApplyResult(report, self.project_id, self.deployments)

    async def _await_live_urls(self, actions: Mapping[str, PlannedAction]) -> None:
        """A public service's auto domain row is written a little after its deployment succeeds
        (domain.md: poll up to 30 s). Wait for the rows of this run's deployments, all at once and
        only after the graph finished (so no dependent waits on ingress), so the final report has
        the live URL. Slow ingress wiring is reported, not failed: the deployment did succeed."""

        async def one(name: str) -> None:
            action = actions[addr.service_deployment(name)]
            try:
                row = await self._auto_domain_row(action, self._service_id(name))
            except (ApplyError, GatewayError):
                self.hooks.action_progress(action, "deployed; its auto domain is not wired yet")
                return
            self.deployments[name].url = f"https://{row.domain}"

        waiting = [
            name
            for name, record in self.deployments.items()
            if record.status == "success"
            and not record.url
            and name in self.desired.services
            and self.desired.services[name].type in ("web", "static")
            and not self.desired.services[name].internal_only
            and addr.service_deployment(name) in actions
        ]
        await asyncio.gather(*(one(name) for name in waiting))

    async def perform(self, action: PlannedAction) -> None:
        """Carry out one action, dispatching on its address and kind."""
        address = action.address
        kind = action.kind
        if address == addr.PROJECT:
            await self._project(action)
        elif address == addr.PROJECT_SOURCE:
            await self._bind_source(action)
        elif address.startswith("dependency."):
            await self._dependency(action, address.split(".", 1)[1])
        else:
            name = addr.service_name(address)
            if name is None:
                raise ApplyError(f"don't know how to apply {address}")
            if address == addr.service(name):
                await self._service(action, name)
            elif address == addr.service_env(name):
                await self._env(action, name)
            elif address == addr.service_deployment(name):
                if kind is ActionKind.WAIT:
                    await self._wait_existing(action, name)
                else:
                    await self._deploy(action, name)
            elif address == addr.service_domain(name):
                await self._rename_domain(action, name)
            else:
                raise ApplyError(f"don't know how to apply {address}")

    # --- project ----------------------------------------------------------------------------

    async def _project(self, action: PlannedAction) -> None:
        if action.kind is ActionKind.DELETE:
            await self._delete_project(action)
            return
        if action.kind is not ActionKind.CREATE:
            raise ApplyError(f"project: {action.kind} is not supported")
        name = self.desired.project
        region = self.desired.region_id or (await self.client.active_region()).id

        async def create() -> str:
            try:
                project = await self.client.create_project(
                    name, region_id=region, description=self.desired.description
                )
            except Conflict as exc:
                existing = await self.client.find_project_by_name(name)
                if existing is not None:
                    return existing.id
                raise ApplyError(
                    exc.message,
                    exc.hint
                    or "A guest credential may own one live project at a time: bind it to an "
                    "account, or wait for the 6-hour collection of the other project.",
                ) from exc
            return project.id

        async def find() -> str | None:
            found = await self.client.find_project_by_name(name)
            return found.id if found else None

        self.project_id = await _create_or_find(create, find)
        self.region_id = region
        read = await self.client.get_project(self.project_id)
        _expect(action.address, "name", name, read.name)
        self._log("setup.project_create", project_id=self.project_id, name=name)

    async def _delete_project(self, action: PlannedAction) -> None:
        """Delete the project; the platform drops its services, databases and domains too."""
        project_id = self._require_project()
        with contextlib.suppress(NotFound):
            await self.client.delete_project(project_id)
        if await self.client.find_project_by_name(self.desired.project) is not None:
            raise ReadBackMismatch(action.address, "existence", "deleted", "still listed")
        self._log("operate.project_delete", project_id=project_id, name=self.desired.project)
        self.project_id = None

    async def _find_service(self, project_id: str, name: str) -> Service | None:
        """The service called `name` *in this environment*: a project may hold a staging and a
        production `web`, and only this environment's row is ours to adopt or to delete."""
        rows = await self.client.list_services(project_id)
        return next(
            (s for s in rows if s.name == name and self._in_environment(s.environment)), None
        )

    def _in_environment(self, row_environment: str) -> bool:
        return in_environment(row_environment, self.desired.environment)

    def _require_project(self) -> str:
        if self.project_id is None:
            raise ApplyError("the project does not exist (its creation did not happen)")
        return self.project_id

    # --- dependencies -----------------------------------------------------------------------

    async def _dependency(self, action: PlannedAction, key: str) -> None:
        project_id = self._require_project()
        if action.kind in (ActionKind.DELETE, ActionKind.REPLACE):
            existing = self.dependency_ids.get(key)
            if existing:
                # Every live row of this key goes: two databases with one name are one
                # resource to the manifest (the plan warned about the duplicate).
                doomed = self.inputs.observed.duplicate_dependencies.get(key) or (existing,)
                for dependency_id in doomed:
                    with contextlib.suppress(NotFound):
                        await self.client.delete_dependency(project_id, dependency_id)
                status = await self.client.dependency_status(project_id)
                if any(d.id in doomed for d in status.dependencies):
                    raise ReadBackMismatch(action.address, "existence", "deleted", "still listed")
                self.dependency_ids.pop(key, None)
                self.dependency_env.pop(key, None)
                self._log("operate.dependency_delete", project_id=project_id, dependency=key)
            if action.kind is ActionKind.DELETE:
                return
        want = self.desired.dependencies[key]

        async def create() -> Dependency:
            return await self.client.create_dependency(
                project_id,
                want.type,
                environment=self.desired.environment,
                template_id=want.template,
                display_name=key,
                database_name=want.database_name,
                username=want.username,
            )

        async def find() -> Dependency | None:
            # By name *in this environment*: staging and production each have their own `db`.
            rows = (await self.client.dependency_status(project_id)).dependencies
            return next(
                (
                    d
                    for d in rows
                    if dependency_key(d) == key and self._in_environment(d.environment)
                ),
                None,
            )

        # Databases are not unique by name on the platform: look first, so an apply running
        # at the same time (or one whose plan is a little old) does not add a second one.
        adopted = await find() if action.kind is ActionKind.CREATE else None
        created = adopted if adopted is not None else await _create_or_find(create, find)
        self.dependency_ids[key] = created.id
        if created.env_vars:
            self.dependency_env[key] = secret_map(created.env_vars)
        self._log(
            "setup.dependency_create",
            project_id=project_id,
            dependency_id=want.type,
            dep_id=created.id,
            environment=self.desired.environment,
        )
        ready = await self._wait_dependency(action, key)
        _expect(action.address, "type", want.type, ready.type or ready.dependency_id)

    async def _wait_dependency(self, action: PlannedAction, key: str) -> Dependency:
        """Poll `GET /v1/dependencies/status/:project_id` until the database is running."""
        project_id = self._require_project()
        dep_id = self.dependency_ids[key]
        deadline = time.monotonic() + DEPENDENCY_READY_TIMEOUT
        last = ""
        while True:
            status = await self.client.dependency_status(project_id)
            row = next((d for d in status.dependencies if d.id == dep_id), None)
            if row is None:
                raise ReadBackMismatch(action.address, "existence", "present", "missing")
            if row.env_vars and key not in self.dependency_env:
                self.dependency_env[key] = secret_map(row.env_vars)
            if row.status != last:
                self.hooks.action_progress(action, f"dependency {row.status}")
                last = row.status
            if row.status == "running":
                return row
            if row.status == "failed":
                raise DependencyFailed(
                    f"dependency.{key} ({row.type}) failed to provision: "
                    f"{row.message or 'no reason given'}",
                    "Run `odplan apply` again: a failed database is deleted and recreated. If "
                    "it fails twice in a row, the platform has an infrastructure problem.",
                )
            if time.monotonic() > deadline:
                raise DependencyFailed(f"dependency.{key} is still {row.status}")
            await asyncio.sleep(self.dependency_poll_seconds)

    # --- services ---------------------------------------------------------------------------

    async def _service(self, action: PlannedAction, name: str) -> None:
        project_id = self._require_project()
        if action.kind in (ActionKind.DELETE, ActionKind.REPLACE):
            existing = self.service_ids.get(name)
            if existing:
                with contextlib.suppress(NotFound):
                    await self.client.delete_service(existing)
                if await self._find_service(project_id, name) is not None:
                    raise ReadBackMismatch(action.address, "existence", "deleted", "still listed")
                self.service_ids.pop(name, None)
                self._log("operate.service_delete", project_id=project_id, service=name)
            if action.kind is ActionKind.DELETE:
                return
        svc = self.desired.services[name]
        if action.kind is ActionKind.UPDATE:
            await self._update_service(action, name, svc)
            return
        runtime = resolve_variables(svc.env, svc.uses, self.dependency_env, {}, svc.env_policy)
        build = resolve_variables(svc.build_env, (), self.dependency_env, {}, svc.env_policy)
        spec: dict[str, Any] = {
            "name": name,
            "type": svc.type,
            "environment": self.desired.environment,
            **svc.settings(),
            "dependencies": list(svc.after),
            "runtime_variables": runtime,
            "build_variables": build,
        }

        async def create() -> str:
            return (await self.client.create_service(project_id, spec)).service_id

        async def find() -> str | None:
            found = await self._find_service(project_id, name)
            return found.id if found else None

        service_id = await _create_or_find(create, find)
        self.service_ids[name] = service_id
        read = await self.client.get_service(service_id)
        self._check_settings(action.address, svc, read)
        env = await self.client.get_env(project_id, service_id)
        _expect_variables(action.address, "env", runtime, env.variables)
        _expect_variables(action.address, "build_variables", build, read.build_variables)
        self._log(
            "setup.service_create",
            project_id=project_id,
            service_id=service_id,
            name=name,
            type=svc.type,
            runtime_var_keys=sorted(runtime),
            build_var_keys=sorted(build),
        )

    async def _update_service(self, action: PlannedAction, name: str, svc: DesiredService) -> None:
        service_id = self._service_id(name)
        settings = svc.settings()
        fields: dict[str, Any] = {}
        for change in action.changes:
            path = change.path
            if path.startswith("build_env."):
                live = self.live_services.get(name)
                live_build = dict(live.build_variables) if live else {}
                fields["build_variables"] = resolve_variables(
                    svc.build_env, (), self.dependency_env, live_build, svc.env_policy
                )
            elif path == "dependencies":
                fields["dependencies"] = list(svc.after)
            elif path in settings:
                fields[path] = settings[path]
        if not fields:
            return
        await self.client.update_service(service_id, fields)
        read = await self.client.get_service(service_id)
        self._check_settings(action.address, svc, read, only=set(fields))
        if "build_variables" in fields:
            _expect_variables(
                action.address, "build_variables", fields["build_variables"], read.build_variables
            )
        self._log("operate.resize", service_id=service_id, fields=sorted(fields))

    def _check_settings(
        self, address: str, svc: DesiredService, read: Service, only: set[str] | None = None
    ) -> None:
        row = read.model_dump()
        for name, want in svc.settings().items():
            if only is not None and name not in only:
                continue
            if not _same_setting(name, want, row.get(name)):
                _expect(address, name, want, row.get(name))
        if only is None or "dependencies" in only:
            got = sorted(row.get("dependencies") or [])
            _expect(address, "dependencies", sorted(svc.after), got)

    def _service_id(self, name: str) -> str:
        service_id = self.service_ids.get(name)
        if service_id is None:
            raise ApplyError(f"service.{name} does not exist (its creation did not happen)")
        return service_id

    async def _env(self, action: PlannedAction, name: str) -> None:
        project_id = self._require_project()
        service_id = self._service_id(name)
        svc = self.desired.services[name]
        live = self.live_services.get(name)
        live_env = dict(live.env) if live else {}
        variables = resolve_variables(
            svc.env, svc.uses, self.dependency_env, live_env, svc.env_policy
        )
        await self.client.replace_env(project_id, service_id, variables)
        read = await self.client.get_env(project_id, service_id)
        _expect_variables(action.address, "env", variables, read.variables)
        self._log(
            "deploy.env_replace",
            project_id=project_id,
            service_id=service_id,
            var_keys=sorted(variables),
            var_count=len(variables),
        )

    # --- source -----------------------------------------------------------------------------

    async def _bind_source(self, action: PlannedAction) -> None:
        """Park the source (upload-only), bind it (update-source), and read back that the
        project's bound upload is this one: update-source answers "already up to date" without
        binding anything when the parked file has expired, and the deployment would then build
        the old files under the new digest. Such a bind is tried once more with a new upload."""
        project_id = self._require_project()
        region = self.region_id or (await self.client.active_region()).id
        for attempt in (1, 2):
            uploaded = await self._upload(action, region)
            self._log(
                "deploy.upload_only", project_id=project_id, temp_file_path=uploaded.temp_file_path
            )
            updated = await self.client.update_source(
                project_id, uploaded.temp_file_path, analysis=self._analysis()
            )
            project = await self.client.get_project(project_id)
            if not project.source_path:
                raise ReadBackMismatch(action.address, "source_path", "set", "empty")
            bound = project.model_dump().get("original_file_path")
            if not bound or bound == uploaded.temp_file_path or self.desired.source.kind == "git":
                break
            if attempt == 2:
                raise ApplyError(
                    "the platform kept the project's previous source: update-source did not "
                    "bind the new upload (it answered: "
                    f"{updated.model_dump().get('message') or 'nothing'})",
                    "Run `odplan apply` again; if it persists, the platform's upload storage "
                    "is expiring files too early.",
                )
            self.hooks.action_progress(action, "the upload expired before binding; uploading again")
        self.temp_file_path = uploaded.temp_file_path
        self._log("deploy.update_source", project_id=project_id, source_path=updated.source_path)

    async def _upload(self, action: PlannedAction, region: str) -> UploadResult:
        source = self.desired.source
        if source.kind == "git":
            assert source.git_url is not None
            return await self.client.upload_git(
                source.git_url,
                project_name=self.desired.project,
                region_id=region,
                branch=source.branch,
                git_token=self.inputs.git_token,
            )
        with tempfile.TemporaryDirectory(prefix="odplan-") as scratch:
            archive = await asyncio.to_thread(self._build_archive, Path(scratch))
            if archive.digest != source.digest:
                planned = self.inputs.planned_selection
                changes = archive.selection.changes_since(planned) if planned else []
                shown = ", ".join(changes[:5]) + (
                    f" and {len(changes) - 5} more" if len(changes) > 5 else ""
                )
                raise SourceChanged(
                    "the source changed between planning and packaging"
                    + (f": {shown}" if shown else ""),
                    "Run `odplan apply` again to plan against the current files. A file written "
                    "while odplan runs (a log redirected into the project folder) changes it "
                    "every time: write it elsewhere, or list it in .gitignore or .odplanignore.",
                )
            self.hooks.action_progress(
                action, f"uploading {archive.file_count} files ({archive.size} bytes)"
            )
            return await self.client.upload_only(
                archive.path, project_name=self.desired.project, region_id=region
            )

    def _build_archive(self, scratch: Path) -> ArchiveInfo:
        """The project's one archive, selecting exactly the files planning digested."""
        root = self.inputs.manifest_dir
        selection = select_files(
            root, manifest=self.inputs.manifest_path, secret_files=self.inputs.secret_files
        )
        return build_archive(root, scratch / "source.zip", selection=selection)

    def _analysis(self) -> dict[str, Any]:
        """A best-effort local analysis for update-source, so the platform skips its own."""
        return {
            "services": [
                {
                    "name": name,
                    "source_path": svc.source_path or ".",
                    "language": svc.language or "",
                    "framework": svc.framework or "",
                    "project_type": svc.type,
                    "port": svc.port or 0,
                    "dependencies": [self.desired.dependencies[d].type for d in svc.uses],
                }
                for name, svc in sorted(self.desired.services.items())
            ]
        }

    # --- deployments ------------------------------------------------------------------------

    async def _wait_existing(self, action: PlannedAction, name: str) -> None:
        deployment_id = action.waits_for_deployment
        if not deployment_id:
            raise ApplyError(f"{action.address}: nothing to wait for")
        await self._watch(action, name, deployment_id)

    async def _deploy(self, action: PlannedAction, name: str) -> None:
        project_id = self._require_project()
        service_id = self._service_id(name)
        svc = self.desired.services[name]
        if action.waits_for_deployment:
            with contextlib.suppress(DeploymentFailed):
                await self._watch(action, name, action.waits_for_deployment)
        for key in svc.uses:
            if key in self.dependency_ids:
                await self._wait_dependency(action, key)
        read = await self.client.get_service(service_id)
        env = await self.client.get_env(project_id, service_id)
        live = ObservedService(
            id=service_id,
            type=read.type or svc.type,
            environment=read.environment or self.desired.environment,
            env=secret_map(env.variables),
            build_variables=secret_map(read.build_variables),
        )
        stamp = Stamp(
            project_digest=self.desired.source.digest,
            service_digest=self.desired.service_digest(name),
            run_id=self.inputs.run_id,
            config_digest=service_config_digest(svc, live, self.dependency_env),
        )
        description = format_stamp(stamp, f"odplan deploy of {name}")
        marker = f"run={self.inputs.run_id}"
        temp_path = self.temp_file_path or await self._previous_temp_path(name)

        async def create() -> Deployment:
            return await self.client.create_deployment(
                project_id,
                service_id,
                environment=self.desired.environment,
                temp_file_path=temp_path,
                source="git" if self.desired.source.kind == "git" else "zip",
                branch=self.desired.source.branch,
                description=description,
                dependencies=[self.dependency_ids[k] for k in svc.uses if k in self.dependency_ids],
            )

        async def find() -> Deployment | None:
            return await self.client.find_deployment_by_description(
                service_id, marker, project_id=project_id
            )

        deployment = await _create_or_find(create, find)
        self._log(
            "deploy.create",
            project_id=project_id,
            service_id=service_id,
            deployment_id=deployment.id,
            environment=self.desired.environment,
            run_id=self.inputs.run_id,
        )
        await self._watch(action, name, deployment.id)

    async def _previous_temp_path(self, name: str) -> str:
        """Deploying without a new upload: reuse the latest deployment's parked path (the build
        reads `project.source_path`; the platform only keeps this one as a hint)."""
        live = self.live_services.get(name)
        latest = live.latest_deployment() if live else None
        if latest is None:
            return "reused-project-source"
        with contextlib.suppress(NotFound):
            return (await self.client.get_deployment(latest.id)).temp_file_path or latest.id
        return latest.id

    async def _watch(self, action: PlannedAction, name: str, deployment_id: str) -> None:
        record = self.deployments.setdefault(name, ServiceOutcomeRecord())
        record.deployment_id = deployment_id
        started = time.monotonic()
        wake = asyncio.Event()
        streamer = asyncio.create_task(self._stream_wakeups(deployment_id, wake))

        async def fetch() -> DeploymentSnapshot:
            d = await self.client.get_deployment(deployment_id)
            return DeploymentSnapshot(d.status, d.progress or 0, d.error_msg or d.message)

        def update(snapshot: DeploymentSnapshot) -> None:
            self.hooks.action_progress(action, f"{snapshot.status} {snapshot.progress}%")

        try:
            final = await watch_deployment(fetch, policy=self.poll, on_update=update, wake=wake)
        finally:
            streamer.cancel()
            with contextlib.suppress(BaseException):
                await streamer
        record.status = final.status
        elapsed = time.monotonic() - started
        self._log(
            "deploy.terminal",
            level="info" if final.status == "success" else "error",
            deployment_id=deployment_id,
            status=final.status,
            duration_seconds=round(elapsed, 1),
        )
        if final.status != "success":
            await self._deployment_failed(name, deployment_id, final, elapsed)

    async def _stream_wakeups(self, deployment_id: str, wake: asyncio.Event) -> None:
        """Every log-stream event wakes the watcher, so a terminal state is seen at once."""
        with contextlib.suppress(Exception):
            async for _event in self.client.stream_deployment_logs(deployment_id):
                wake.set()
            wake.set()

    async def _deployment_failed(
        self, name: str, deployment_id: str, final: DeploymentSnapshot, elapsed: float
    ) -> None:
        lines: list[str] = []
        with contextlib.suppress(Exception):
            logs = await self.client.deployment_logs(deployment_id, tail=300)
            lines = [_log_line(entry) for entry in (logs.logs or [])]
        if final.status == "failed" and final.progress <= 10 and not lines:
            hint = (
                "The build failed before writing any log (progress 10): the project's source was "
                "not bound (update-source skipped, failed, or its upload expired). Run "
                "`odplan apply` again: it re-uploads and binds the source before deploying."
            )
        elif final.status == "failed":
            hint = (
                "The build or deploy failed: the log tail above is the root cause, verbatim. "
                "Fix the app (or its resources), then run `odplan apply` again."
            )
        else:
            hint = f"The deployment was {final.status}; run `odplan apply` to deploy again."
        raise DeploymentFailed(name, deployment_id, final.status, final.message, lines, hint)

    # --- domains ----------------------------------------------------------------------------

    async def _rename_domain(self, action: PlannedAction, name: str) -> None:
        service_id = self._service_id(name)
        subdomain = self.desired.services[name].subdomain
        if not subdomain:
            raise ApplyError(f"{action.address}: no subdomain in the manifest")
        environment = self.desired.environment
        target = platform.auto_domain(subdomain, environment)
        row = await self._auto_domain_row(action, service_id)
        if row.domain != target:
            check = await self.client.check_subdomain(subdomain)
            # "reserved" is final. "taken" is only advisory: the check names no environment, so
            # the same prefix in the other environment (`x.dev.opendeploy.run` for staging) may
            # answer "taken" although this environment's name is free; the rename's own 409 is
            # the authority.
            if not check.available and check.reason != "taken":
                raise _unavailable(subdomain, check.reason or "unavailable")
            try:
                await self.client.rename_subdomain(row.id, subdomain)
            except Conflict as exc:
                raise _unavailable(subdomain, "taken") from exc
        rows = await self.client.list_service_domains(
            service_id, environment=environment, type="auto"
        )
        got = next((r.domain for r in rows if r.id == row.id), "")
        _expect(action.address, "domain", target, got)
        self.deployments.setdefault(name, ServiceOutcomeRecord()).url = f"https://{target}"
        self._log(
            "domain.rename", service_id=service_id, subdomain=subdomain, environment=environment
        )

    async def _auto_domain_row(self, action: PlannedAction, service_id: str) -> Any:
        """The auto domain row; it can appear a little after the deployment succeeds."""
        deadline = time.monotonic() + DOMAIN_ROW_TIMEOUT
        while True:
            rows = await self.client.list_service_domains(
                service_id, environment=self.desired.environment, type="auto"
            )
            if rows:
                return rows[0]
            if time.monotonic() > deadline:
                raise ApplyError(
                    f"{action.address}: the deployment succeeded but its auto domain did not "
                    f"appear within {DOMAIN_ROW_TIMEOUT:.0f} s",
                    "Ingress wiring is slow; run `odplan apply` again in a minute to rename it.",
                )
            self.hooks.action_progress(action, "waiting for the auto domain")
            await asyncio.sleep(self.domain_poll_seconds)

    # --- audit ------------------------------------------------------------------------------

    def _log(self, step: str, *, level: str = "info", **fields: Any) -> None:
        if self.audit is None:
            return
        if level == "error":
            self.audit.error(step, **fields)
        else:
            self.audit.info(step, **fields)

    def _known_secret_values(self) -> set[str]:
        """Every secret value this run holds: manifest secrets, dependency env_vars, live env."""
        values: set[str] = set()
        for svc in self.desired.services.values():
            for value in (*svc.env.values(), *svc.build_env.values()):
                values.update(
                    p.value.get_secret_value() for p in value.parts if isinstance(p, SecretPart)
                )
        for variables in self.dependency_env.values():
            values.update(v.get_secret_value() for v in variables.values())
        for live in self.live_services.values():
            values.update(v.get_secret_value() for v in live.env.values())
            values.update(v.get_secret_value() for v in live.build_variables.values())
        return values

    def _audit_result(self, action: PlannedAction, result: StepResult) -> None:
        fields: dict[str, Any] = {"address": action.address, "kind": str(action.kind)}
        if result.outcome is StepOutcome.SUCCEEDED:
            self._log("apply.action", outcome="succeeded", **fields)
        else:
            reason = result.reason or (str(result.error) if result.error else "")
            # Gateway text can echo a value back: the audit log never keeps one.
            reason = scrub(reason, self._known_secret_values())
            self._log(
                "apply.action", level="error", outcome=result.outcome.value, reason=reason, **fields
            )


async def _create_or_find(
    create: Callable[[], Awaitable[T]], find: Callable[[], Awaitable[T | None]], attempts: int = 3
) -> T:
    """Create; when the outcome is unknown, look for what the create may have made first.

    A 409 (the name exists) is answered the same way: another apply of the same manifest made
    it since this plan was refreshed, so it is adopted (and then read back like a create)."""
    last: OutcomeUnknown | None = None
    for _ in range(attempts):
        try:
            return await create()
        except OutcomeUnknown as exc:
            last = exc
            found = await find()
            if found is not None:
                return found
        except Conflict:
            found = await find()
            if found is not None:
                return found
            raise
    assert last is not None
    raise last


def _same_setting(name: str, want: Any, got: Any) -> bool:
    if name == "source_path":
        return bool(want == normal_source_path(str(got or "")))
    if got is None or got == "":
        got = _DEFAULTS.get(name, got)
    parse = _QUANTITY_PARSERS.get(name)
    if parse is not None and isinstance(want, str) and got is not None:
        try:
            return parse(str(want)) == parse(str(got))
        except ValueError:
            return False
    return bool(want == got)


def _expect(address: str, name: str, want: Any, got: Any) -> None:
    if want != got:
        raise ReadBackMismatch(address, name, repr(want), repr(got))


def _expect_variables(
    address: str, what: str, sent: Mapping[str, str], got: Mapping[str, str]
) -> None:
    """Compare variable maps by key, never printing a value."""
    missing = sorted(set(sent) - set(got))
    extra = sorted(set(got) - set(sent))
    changed = sorted(k for k in set(sent) & set(got) if sent[k] != got[k])
    if missing or extra or changed:
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unexpected {', '.join(extra)}" if extra else "",
                f"different value for {', '.join(changed)}" if changed else "",
            )
            if part
        )
        raise ReadBackMismatch(address, what, "what was sent", detail)


def _unavailable(subdomain: str, reason: str) -> SubdomainUnavailable:
    return SubdomainUnavailable(
        f"subdomain {subdomain!r} is {reason}",
        "Choose another `subdomain` in opendeploy.yaml: odplan never picks a different name "
        "for you (the manifest is the truth).",
    )


def _log_line(entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, Mapping):
        message = entry.get("message") or entry.get("line") or entry.get("msg")
        if message is not None:
            return str(message)
    return str(entry)
