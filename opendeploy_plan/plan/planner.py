"""The pure planner: `make_plan(desired, observed, options) -> Plan`. No I/O, clock or randomness.

Rules (see docs/plan.md for the full table): project → dependencies → services (env pre-merged
with the `env_vars` of the dependencies they `use`) → one source bind per project → deployments
(after their `after:` siblings) → wait → auto-domain rename. Env/build-env/settings changes, new
source or a failed latest deployment redeploy; resources and replicas update in place; type
changes replace; an in-flight deployment is waited for, never duplicated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from dataclasses import replace as with_changes

import networkx as nx
from pydantic import SecretStr

from opendeploy_plan import platform
from opendeploy_plan.diagnostics import Diagnostic
from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.desired import RESIZE_FIELDS, DesiredService, DesiredState
from opendeploy_plan.plan.diff import (
    WantedValue,
    diff_settings,
    diff_variables,
    wanted_variables,
)
from opendeploy_plan.plan.fingerprint import combine, fingerprint_parts
from opendeploy_plan.plan.model import (
    REASON_TEXT,
    ActionKind,
    ActionReason,
    AttributeChange,
    ChangeKind,
    DisplayValue,
    Mask,
    Plan,
    PlannedAction,
    PlanNote,
    PlanOptions,
)
from opendeploy_plan.plan.stamp import config_digest, parse_stamp
from opendeploy_plan.state.model import ObservedDeployment, ObservedService, ObservedState

_RANK = {"project": 0, "dependency": 1, "service": 2, "env": 3, "source": 4, "deployment": 5}
_DEFAULT_OPTIONS = PlanOptions()


def short_digest(digest: str | None) -> str:
    """`sha256:1f2e3d4c5b6a` (12 hex) for display; digests are not secret."""
    if not digest:
        return "(none)"
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:12]}" if hexpart else digest[:19]


@dataclass
class _Draft:
    address: str
    kind: ActionKind
    reason: ActionReason
    changes: list[AttributeChange] = field(default_factory=list)
    wants: set[str] = field(default_factory=set)
    detail: str | None = None
    waits_for: str | None = None


def _sort_key(address: str, kind: ActionKind) -> str:
    if kind is ActionKind.DELETE:
        rank = 7
    elif address == addr.PROJECT:
        rank = _RANK["project"]
    elif address == addr.PROJECT_SOURCE:
        rank = _RANK["source"]
    elif address.startswith("dependency."):
        rank = _RANK["dependency"]
    elif address.endswith(".env"):
        rank = _RANK["env"]
    elif address.endswith(".deployment"):
        rank = _RANK["deployment"]
    elif address.endswith(".domain"):
        rank = 6
    else:
        rank = _RANK["service"]
    return f"{rank}:{address}"


def _adds(values: dict[str, object]) -> list[AttributeChange]:
    out: list[AttributeChange] = []
    for name, value in values.items():
        if value is None or value == [] or value == ():
            continue
        shown: DisplayValue = list(value) if isinstance(value, tuple | list) else value  # type: ignore[assignment]
        out.append(AttributeChange(name, ChangeKind.ADD, None, shown))
    return out


class _Planner:
    def __init__(self, desired: DesiredState, observed: ObservedState, options: PlanOptions):
        self.desired = desired
        self.observed = observed
        self.options = options
        self.drafts: dict[str, _Draft] = {}
        self.diagnostics: list[Diagnostic] = []
        self.notes: list[PlanNote] = []
        self.unmanaged: list[str] = []
        self.pending_deps: set[str] = set()
        self.replace = {addr.canonical(a) for a in options.replace}
        self.redeploy = {addr.canonical(a) for a in options.redeploy}

    # -- helpers ----------------------------------------------------------------------------
    def error(self, address: str, summary: str, detail: str = "") -> None:
        self.diagnostics.append(Diagnostic("", 0, 0, "error", address, summary, detail))

    def warning(self, address: str, summary: str, detail: str = "") -> None:
        self.diagnostics.append(Diagnostic("", 0, 0, "warning", address, summary, detail))

    def add(self, draft: _Draft) -> _Draft:
        self.drafts[draft.address] = draft
        return draft

    def gate_data_loss(self, address: str, verb: str) -> None:
        if not self.options.allow_data_loss:
            self.error(
                address,
                f"{verb} {address} would destroy its data",
                "Databases are only deleted or replaced with --allow-data-loss. Back the data "
                "up first, or keep the dependency as it is.",
            )

    # -- the run ----------------------------------------------------------------------------
    def run(self) -> Plan:
        self.check_references()
        self.plan_project()
        self.plan_dependencies()
        for name in sorted(self.desired.services):
            self.plan_service(name, self.desired.services[name])
        self.plan_unmanaged()
        self.plan_source_bind()
        self.check_option_addresses()
        self.check_duplicate_dependencies()
        if self.options.guest:
            self.check_guest_caps()
        graph = self.build_graph()
        graph = self.apply_target_and_exclude(graph)
        ordered = self.ordered(graph)
        actions = tuple(
            PlannedAction(
                address=d.address,
                kind=d.kind,
                reason=d.reason,
                changes=tuple(d.changes),
                depends_on=tuple(sorted(graph.predecessors(d.address))),
                detail=d.detail,
                waits_for_deployment=d.waits_for,
            )
            for d in (self.drafts[a] for a in ordered)
        )
        drift: tuple[PlannedAction, ...] = ()
        if self.options.refresh_only:
            kept = [
                a
                for a in actions
                if a.kind is not ActionKind.BIND_SOURCE
                and a.reason not in (ActionReason.SOURCE_CHANGED, ActionReason.REDEPLOY_REQUESTED)
            ]
            kept_addresses = {a.address for a in kept}
            drift = tuple(
                with_changes(a, depends_on=tuple(d for d in a.depends_on if d in kept_addresses))
                for a in kept
            )
            actions = ()
            graph = nx.DiGraph()
        parts = fingerprint_parts(self.observed, self.options.salt)
        return Plan(
            project=self.desired.project,
            environment=self.desired.environment,
            actions=actions,
            graph=graph,
            options=self.options,
            fingerprint=combine(parts, self.options.salt),
            fingerprint_parts=parts,
            secret_hashes=self.secret_hashes(),
            source_digest=self.desired.source.digest,
            diagnostics=tuple(sorted(set(self.diagnostics))),
            notes=tuple(sorted(set(self.notes), key=lambda n: (n.address, n.message))),
            unmanaged=tuple(sorted(self.unmanaged)),
            drift=drift,
        )

    def check_references(self) -> None:
        services = self.desired.services
        for name in sorted(services):
            svc = services[name]
            where = addr.service(name)
            for dep in svc.uses:
                if dep not in self.desired.dependencies:
                    self.error(where, f"uses unknown dependency {dep!r}")
            for sibling in svc.after:
                if sibling not in services:
                    self.error(where, f"after: unknown service {sibling!r}")
                elif sibling == name:
                    self.error(where, "after: a service cannot come after itself")
            for key, value in [*svc.env.items(), *svc.build_env.items()]:
                for ref in value.dependency_refs:
                    if ref.dependency not in self.desired.dependencies:
                        self.error(where, f"{key} refers to unknown dependency {ref.dependency!r}")
                        continue
                    live = self.observed.dependencies.get(ref.dependency)
                    if (
                        live is not None
                        and live.type == self.desired.dependencies[ref.dependency].type
                        and ref.key not in live.env_vars
                        and live.status != "failed"
                    ):
                        self.error(
                            where,
                            f"{key} refers to {ref.placeholder()}, which dependency."
                            f"{ref.dependency} does not provide",
                            "Provided: " + (", ".join(sorted(live.env_vars)) or "(none)"),
                        )

    def plan_project(self) -> None:
        live = self.observed.project
        if live is None:
            changes = _adds(
                {
                    "name": self.desired.project,
                    "region_id": self.desired.region_id,
                    "description": self.desired.description,
                }
            )
            self.add(_Draft(addr.PROJECT, ActionKind.CREATE, ActionReason.NEW, changes))
            return
        if self.desired.region_id and live.region_id and live.region_id != self.desired.region_id:
            self.error(
                addr.PROJECT,
                f"project {live.name!r} lives in region {live.region_id}, not "
                f"{self.desired.region_id}",
                "odplan cannot move a project between regions. Use the live region in the "
                "manifest, or deploy under another project name.",
            )

    def plan_dependencies(self) -> None:
        for key in sorted(self.desired.dependencies):
            want = self.desired.dependencies[key]
            live = self.observed.dependencies.get(key)
            address = addr.dependency(key)
            if live is None:
                changes = _adds(
                    {
                        "type": want.type,
                        "template": want.template,
                        "database_name": want.database_name,
                        "username": want.username,
                    }
                )
                draft = _Draft(address, ActionKind.CREATE, ActionReason.NEW, changes)
                draft.wants.add(addr.PROJECT)
                self.add(draft)
                self.pending_deps.add(key)
                continue
            if live.type != want.type:
                reason = ActionReason.TYPE_CHANGED
                change = AttributeChange(
                    "type", ChangeKind.CHANGE, live.type, want.type, "forces replacement"
                )
                self.gate_data_loss(address, "Replacing")
            elif address in self.replace:
                reason = ActionReason.REPLACE_REQUESTED
                change = AttributeChange("type", ChangeKind.CHANGE, live.type, want.type)
                self.gate_data_loss(address, "Replacing")
            elif live.status == "failed":
                reason = ActionReason.DEPENDENCY_FAILED
                change = AttributeChange("status", ChangeKind.CHANGE, "failed", "running")
            else:
                continue
            draft = _Draft(address, ActionKind.REPLACE, reason, [change])
            draft.wants.add(addr.PROJECT)
            self.add(draft)
            self.pending_deps.add(key)

    def dependency_env(self) -> dict[str, dict[str, SecretStr]]:
        return {
            key: dict(dep.env_vars)
            for key, dep in self.observed.dependencies.items()
            if key not in self.pending_deps
        }

    def provided_by_pending(self, uses: Iterable[str]) -> dict[str, str]:
        provided: dict[str, str] = {}
        for dep in uses:
            live = self.observed.dependencies.get(dep)
            if dep in self.pending_deps and live is not None:
                provided.update({k: dep for k in live.env_vars})
        return provided

    def plan_service(self, name: str, svc: DesiredService) -> None:
        address = addr.service(name)
        live = self.observed.services.get(name)
        dep_env = self.dependency_env()
        wanted_env, pending_env = wanted_variables(svc.env, svc.uses, dep_env)
        wanted_build, pending_build = wanted_variables(svc.build_env, (), dep_env)
        uses_addresses = {addr.dependency(d) for d in svc.uses}
        uses_addresses |= {
            addr.dependency(r.dependency)
            for v in [*svc.env.values(), *svc.build_env.values()]
            for r in v.dependency_refs
        }
        replace_reason: ActionReason | None = None
        if live is not None:
            if live.type != svc.type:
                replace_reason = ActionReason.TYPE_CHANGED
            elif live.environment != self.desired.environment:
                replace_reason = ActionReason.ENVIRONMENT_CHANGED
            elif address in self.replace:
                replace_reason = ActionReason.REPLACE_REQUESTED
        if live is None or replace_reason is not None:
            self.plan_new_service(
                name,
                svc,
                live,
                replace_reason,
                wanted_env,
                pending_env,
                wanted_build,
                pending_build,
                uses_addresses,
            )
            return
        self.plan_existing_service(
            name, svc, live, wanted_env, pending_env, wanted_build, pending_build, uses_addresses
        )

    def plan_new_service(
        self,
        name: str,
        svc: DesiredService,
        live: ObservedService | None,
        replace_reason: ActionReason | None,
        wanted_env: dict[str, WantedValue],
        pending_env: list[str],
        wanted_build: dict[str, WantedValue],
        pending_build: list[str],
        uses_addresses: set[str],
    ) -> None:
        address = addr.service(name)
        changes: list[AttributeChange] = []
        if live is not None and replace_reason is not None:
            if live.type != svc.type:
                changes.append(
                    AttributeChange(
                        "type", ChangeKind.CHANGE, live.type, svc.type, "forces replacement"
                    )
                )
            if live.environment != self.desired.environment:
                changes.append(
                    AttributeChange(
                        "environment",
                        ChangeKind.CHANGE,
                        live.environment,
                        self.desired.environment,
                        "forces replacement",
                    )
                )
        else:
            changes.append(AttributeChange("type", ChangeKind.ADD, None, svc.type))
            changes.append(
                AttributeChange("environment", ChangeKind.ADD, None, self.desired.environment)
            )
        settings: dict[str, object] = dict(svc.settings())
        settings["dependencies"] = list(svc.after)
        changes.extend(_adds(settings))
        env_typed = wanted_env
        build_typed = wanted_build
        changes.extend(diff_variables("env", env_typed, pending_env, {}, "replace", {}))
        changes.extend(diff_variables("build_env", build_typed, pending_build, {}, "replace", {}))
        kind = ActionKind.CREATE if live is None else ActionKind.REPLACE
        reason = ActionReason.NEW if replace_reason is None else replace_reason
        draft = self.add(_Draft(address, kind, reason, changes))
        draft.wants |= {addr.PROJECT, *uses_addresses}
        draft.wants |= {addr.service(s) for s in svc.after}

        deploy_reason = ActionReason.NEW_SERVICE if live is None else ActionReason.SERVICE_REPLACED
        digest = self.desired.service_digest(name)
        deploy = self.add(
            _Draft(
                addr.service_deployment(name),
                ActionKind.DEPLOY,
                deploy_reason,
                [AttributeChange("source", ChangeKind.ADD, None, short_digest(digest))],
            )
        )
        deploy.wants |= {address, addr.PROJECT_SOURCE, *uses_addresses}
        deploy.wants |= {addr.service_deployment(s) for s in svc.after}
        if svc.subdomain:
            target = platform.auto_domain(svc.subdomain, self.desired.environment)
            domain = self.add(
                _Draft(
                    addr.service_domain(name),
                    ActionKind.RENAME_DOMAIN,
                    ActionReason.SUBDOMAIN_CHANGED,
                    [AttributeChange("domain", ChangeKind.CHANGE, Mask.UNKNOWN, target)],
                )
            )
            domain.wants.add(deploy.address)

    def plan_existing_service(
        self,
        name: str,
        svc: DesiredService,
        live: ObservedService,
        wanted_env: dict[str, WantedValue],
        pending_env: list[str],
        wanted_build: dict[str, WantedValue],
        pending_build: list[str],
        uses_addresses: set[str],
    ) -> None:
        address = addr.service(name)
        env_typed = wanted_env
        build_typed = wanted_build
        settings_changes = diff_settings(svc, live)
        build_changes = diff_variables(
            "build_env",
            build_typed,
            pending_build,
            live.build_variables,
            svc.env_policy,
            {},
        )
        env_changes = diff_variables(
            "env",
            env_typed,
            pending_env,
            live.env,
            svc.env_policy,
            self.provided_by_pending(svc.uses),
        )
        redeploying_settings = [c for c in settings_changes if c.path not in RESIZE_FIELDS]
        if settings_changes or build_changes:
            if redeploying_settings:
                reason = ActionReason.SETTINGS_CHANGED
            elif build_changes:
                reason = ActionReason.BUILD_ENV_CHANGED
            else:
                reason = ActionReason.RESOURCES_CHANGED
            marked = [
                c
                if c.path in RESIZE_FIELDS
                else AttributeChange(c.path, c.kind, c.before, c.after, "requires redeploy")
                for c in settings_changes
            ]
            draft = self.add(_Draft(address, ActionKind.UPDATE, reason, [*marked, *build_changes]))
            draft.wants |= {*uses_addresses, *(addr.service(s) for s in svc.after)}
        if env_changes:
            only_pending = all(c.after is Mask.UNKNOWN for c in env_changes) and bool(
                pending_env or self.provided_by_pending(svc.uses)
            )
            reason = (
                ActionReason.DEPENDENCY_ENV_CHANGED if only_pending else ActionReason.ENV_CHANGED
            )
            draft = self.add(_Draft(addr.service_env(name), ActionKind.UPDATE, reason, env_changes))
            draft.wants |= {address, *uses_addresses}

        deploy_reasons: list[ActionReason] = []
        if address in self.redeploy or addr.service_deployment(name) in self.redeploy:
            deploy_reasons.append(ActionReason.REDEPLOY_REQUESTED)
        latest = live.latest_deployment()
        in_flight = (
            latest is not None and latest.status not in platform.TERMINAL_DEPLOYMENT_STATUSES
        )
        if latest is None:
            deploy_reasons.append(ActionReason.NEVER_DEPLOYED)
        elif not in_flight and latest.status != "success":
            deploy_reasons.append(ActionReason.LATEST_DEPLOYMENT_FAILED)
        reference = latest if in_flight else live.latest_successful_deployment()
        digest = self.desired.service_digest(name)
        stamped_digest: str | None = None
        unstamped: ObservedDeployment | None = None
        config_undeployed = False
        if reference is not None:
            stamp = parse_stamp(reference.description)
            if stamp is None:
                unstamped = reference
            else:
                stamped_digest = stamp.service_digest
                if stamp.service_digest != digest:
                    deploy_reasons.append(ActionReason.SOURCE_CHANGED)
                config_undeployed = bool(
                    stamp.config_digest
                    and stamp.config_digest
                    != service_config_digest(svc, live, self.dependency_env())
                )
        if env_changes:
            deploy_reasons.append(self.drafts[addr.service_env(name)].reason)
        if build_changes:
            deploy_reasons.append(ActionReason.BUILD_ENV_CHANGED)
        if redeploying_settings:
            deploy_reasons.append(ActionReason.SETTINGS_CHANGED)
        if config_undeployed and not env_changes and not build_changes:
            deploy_reasons.append(ActionReason.CONFIG_NOT_DEPLOYED)

        deployment_address = addr.service_deployment(name)
        if deploy_reasons:
            before: DisplayValue = None
            if stamped_digest is not None:
                before = short_digest(stamped_digest)
            elif unstamped is not None:
                before = "(unknown)"
            source_changes: list[AttributeChange] = []
            notes: list[str] = []
            if before == short_digest(digest):
                notes.append(f"source {before} unchanged")
            else:
                kind = ChangeKind.CHANGE if before is not None else ChangeKind.ADD
                source_changes.append(AttributeChange("source", kind, before, short_digest(digest)))
            others = list(dict.fromkeys(REASON_TEXT[r] for r in deploy_reasons[1:]))
            if others:
                notes.append("also: " + "; ".join(others))
            draft = self.add(
                _Draft(
                    deployment_address,
                    ActionKind.DEPLOY,
                    deploy_reasons[0],
                    source_changes,
                    detail="; ".join(notes) or None,
                )
            )
            draft.wants |= {address, addr.service_env(name), addr.PROJECT_SOURCE, *uses_addresses}
            draft.wants |= {addr.service_deployment(s) for s in svc.after}
            if in_flight and latest is not None:
                draft.waits_for = latest.id
                wait_text = f"waits for in-flight deployment {latest.id} ({latest.status}) first"
                draft.detail = wait_text if draft.detail is None else f"{wait_text}; {draft.detail}"
        elif in_flight and latest is not None:
            draft = self.add(
                _Draft(
                    deployment_address,
                    ActionKind.WAIT,
                    ActionReason.DEPLOYMENT_IN_FLIGHT,
                    [AttributeChange("status", ChangeKind.CHANGE, latest.status, Mask.UNKNOWN)],
                    detail=f"deployment {latest.id} is {latest.status}; wait for a terminal status",
                    waits_for=latest.id,
                )
            )
            draft.wants |= {addr.service_deployment(s) for s in svc.after}
            if unstamped is not None:
                self.notes.append(
                    PlanNote(
                        deployment_address,
                        f"in-flight deployment {latest.id} was not made by odplan; its source is "
                        "unknown, so it is awaited and not redeployed (use --redeploy to force)",
                    )
                )
        elif unstamped is not None:
            self.notes.append(
                PlanNote(
                    deployment_address,
                    f"latest successful deployment {unstamped.id} has no odplan stamp, so its "
                    "source is unknown; not redeploying (use --redeploy to force)",
                )
            )
        self.plan_domain(name, svc, live, latest)

    def plan_domain(
        self,
        name: str,
        svc: DesiredService,
        live: ObservedService,
        latest: ObservedDeployment | None,
    ) -> None:
        if not svc.subdomain:
            return
        target = platform.auto_domain(svc.subdomain, self.desired.environment)
        current = live.domain.domain if live.domain else None
        if current == target:
            return
        deployment_address = addr.service_deployment(name)
        if deployment_address not in self.drafts and (latest is None or latest.status != "success"):
            self.notes.append(
                PlanNote(
                    addr.service_domain(name),
                    "not renaming the domain: the service has no successful deployment",
                )
            )
            return
        before: DisplayValue = current if current is not None else Mask.UNKNOWN
        draft = self.add(
            _Draft(
                addr.service_domain(name),
                ActionKind.RENAME_DOMAIN,
                ActionReason.SUBDOMAIN_CHANGED,
                [AttributeChange("domain", ChangeKind.CHANGE, before, target)],
            )
        )
        draft.wants |= {deployment_address, addr.service(name)}

    def plan_unmanaged(self) -> None:
        deleted_services: set[str] = set()
        for name in sorted(set(self.observed.services) - set(self.desired.services)):
            address = addr.service(name)
            if not self.options.prune:
                self.unmanaged.append(address)
                continue
            live = self.observed.services[name]
            self.add(
                _Draft(
                    address,
                    ActionKind.DELETE,
                    ActionReason.PRUNE,
                    [AttributeChange("type", ChangeKind.REMOVE, live.type, None)],
                )
            )
            deleted_services.add(address)
        for key in sorted(set(self.observed.dependencies) - set(self.desired.dependencies)):
            address = addr.dependency(key)
            if not self.options.prune:
                self.unmanaged.append(address)
                continue
            live_dep = self.observed.dependencies[key]
            self.gate_data_loss(address, "Deleting")
            draft = self.add(
                _Draft(
                    address,
                    ActionKind.DELETE,
                    ActionReason.PRUNE,
                    [AttributeChange("type", ChangeKind.REMOVE, live_dep.type, None)],
                )
            )
            draft.wants |= deleted_services

    def latest_project_deployment(self) -> ObservedDeployment | None:
        every = [d for s in self.observed.services.values() for d in s.deployments]
        return max(every, key=ObservedDeployment.created_at_sort_key) if every else None

    def plan_source_bind(self) -> None:
        if not any(d.kind is ActionKind.DEPLOY for d in self.drafts.values()):
            return
        project = self.observed.project
        bound: DisplayValue = None
        if project is None:
            reason = ActionReason.NEW_PROJECT
        elif not project.has_source:
            reason = ActionReason.PROJECT_HAS_NO_SOURCE
        else:
            latest = self.latest_project_deployment()
            stamp = parse_stamp(latest.description) if latest else None
            if stamp is None:
                reason = ActionReason.SOURCE_UNKNOWN
                bound = "(unknown)"
            elif stamp.project_digest != self.desired.source.digest:
                reason = ActionReason.SOURCE_CHANGED
                bound = short_digest(stamp.project_digest)
            else:
                return
        source = self.desired.source
        after = short_digest(source.digest)
        if source.kind == "git":
            after = f"{source.git_url}@{source.branch or 'HEAD'} ({after})"
        kind = ChangeKind.ADD if bound is None else ChangeKind.CHANGE
        draft = self.add(
            _Draft(
                addr.PROJECT_SOURCE,
                ActionKind.BIND_SOURCE,
                reason,
                [AttributeChange("source", kind, bound, after)],
            )
        )
        draft.wants.add(addr.PROJECT)

    def check_option_addresses(self) -> None:
        for flag, values in (
            ("--target", self.options.target),
            ("--exclude", self.options.exclude),
            ("--redeploy", self.options.redeploy),
            ("--replace", self.options.replace),
        ):
            for value in values:
                if not addr.is_valid(value):
                    self.error(
                        value,
                        f"{flag} {value!r} is not an address",
                        "Addresses look like project, dependency.db, service.web, "
                        "service.web.env, service.web.deployment or service.web.domain.",
                    )
        known = {addr.PROJECT, addr.PROJECT_SOURCE}
        known |= {
            addr.dependency(k) for k in (*self.desired.dependencies, *self.observed.dependencies)
        }
        known |= {addr.service(n) for n in (*self.desired.services, *self.observed.services)}
        for flag, values in (
            ("--target", self.options.target),
            ("--exclude", self.options.exclude),
        ):
            for value in values:
                root = addr.canonical(value)
                name = addr.service_name(root)
                resource = addr.service(name) if name is not None else root
                if addr.is_valid(value) and resource not in known:
                    self.warning(
                        value, f"{flag} {value!r} matches nothing in the manifest or live project"
                    )
        for value in self.options.redeploy:
            name = addr.service_name(value)
            if addr.is_valid(value) and (name is None or name not in self.desired.services):
                self.warning(value, f"--redeploy {value!r} names no service in the manifest")
        for value in self.options.replace:
            known = {addr.service(n) for n in self.observed.services}
            known |= {addr.dependency(k) for k in self.observed.dependencies}
            if addr.is_valid(value) and value not in known:
                self.warning(
                    value,
                    f"--replace {value!r} names no live service or dependency",
                    "Only services and dependencies that exist can be replaced.",
                )

    def check_duplicate_dependencies(self) -> None:
        """Two live databases with one name in this environment (two applies at once can
        create both): odplan manages the first and says so, never picks silently."""
        for key, ids in sorted(self.observed.duplicate_dependencies.items()):
            managed, *others = ids
            named = f"{len(ids)} live databases are named {key!r} in {self.desired.environment}"
            if key not in self.desired.dependencies:
                self.warning(
                    addr.dependency(key),
                    f"{named} ({', '.join(ids)}), none in the manifest",
                    "--prune with --allow-data-loss deletes all of them.",
                )
                continue
            self.warning(
                addr.dependency(key),
                f"{named}; odplan manages {managed} and leaves {', '.join(others)} alone",
                "The platform does not keep database names unique. Check which one your "
                "services use and delete the other in the dashboard once it holds no data you "
                "need. Deleting or replacing this dependency deletes all of them.",
            )

    def check_guest_caps(self) -> None:
        services = self.desired.services
        if len(services) > platform.GUEST_SERVICES_PER_PROJECT:
            self.warning(
                addr.PROJECT,
                f"{len(services)} services exceed the guest cap of "
                f"{platform.GUEST_SERVICES_PER_PROJECT} per project",
                "A credential linked to an account (account-binding URL) has no guest caps.",
            )
        for name in sorted(services):
            svc = services[name]
            where = addr.service(name)
            if svc.cpu_limit and _safe(platform.cpu_millicores, svc.cpu_limit) > (
                platform.GUEST_CPU_LIMIT_MILLICORES
            ):
                self.warning(where, f"cpu limit {svc.cpu_limit} exceeds the guest cap of 1 vCPU")
            if svc.memory_limit and _safe(platform.memory_bytes, svc.memory_limit) > (
                platform.GUEST_MEMORY_LIMIT_BYTES
            ):
                self.warning(where, f"memory limit {svc.memory_limit} exceeds the guest cap of 1Gi")
            if svc.replicas is not None and svc.replicas > platform.GUEST_MAX_REPLICAS:
                self.warning(
                    where,
                    f"{svc.replicas} replicas exceed the guest cap of "
                    f"{platform.GUEST_MAX_REPLICAS}",
                )

    def build_graph(self) -> nx.DiGraph:
        graph = nx.DiGraph()
        for address in self.drafts:
            graph.add_node(address)
        for draft in self.drafts.values():
            for want in draft.wants:
                if want in self.drafts and want != draft.address:
                    graph.add_edge(want, draft.address)
        if not nx.is_directed_acyclic_graph(graph):
            cycle = nx.find_cycle(graph)
            self.error(
                addr.PROJECT,
                "the actions form a cycle: " + " -> ".join(edge[0] for edge in cycle),
                "Check the services' after: lists for a loop.",
            )
            graph.remove_edges_from(list(graph.edges))
        return graph

    def apply_target_and_exclude(self, graph: nx.DiGraph) -> nx.DiGraph:
        keep = set(graph.nodes)
        explicitly_targeted: set[str] = set()
        if self.options.target:
            selected = {a for a in keep if any(addr.matches(a, t) for t in self.options.target)}
            explicitly_targeted = set(selected)
            for node in list(selected):
                selected |= nx.ancestors(graph, node)
            keep = selected
        if self.options.exclude:
            dropped = {a for a in keep if any(addr.matches(a, e) for e in self.options.exclude)}
            for node in list(dropped):
                dropped |= nx.descendants(graph, node)
            keep -= dropped
        orphan_bind = addr.PROJECT_SOURCE in keep and not any(
            self.drafts[a].kind is ActionKind.DEPLOY
            for a in graph.successors(addr.PROJECT_SOURCE)
            if a in keep
        )
        if orphan_bind and addr.PROJECT_SOURCE not in explicitly_targeted:
            keep.discard(addr.PROJECT_SOURCE)
        if self.options.target or self.options.exclude:
            skipped = sorted(set(graph.nodes) - keep)
            self.warning(
                addr.PROJECT,
                "resource targeting is in effect",
                "The plan may be incomplete: "
                + (("skipped " + ", ".join(skipped)) if skipped else "nothing was skipped")
                + ". Run a full plan afterwards to converge.",
            )
        return graph.subgraph(keep).copy()

    def ordered(self, graph: nx.DiGraph) -> list[str]:
        return list(
            nx.lexicographical_topological_sort(
                graph, key=lambda a: _sort_key(a, self.drafts[a].kind)
            )
        )

    def secret_hashes(self) -> dict[str, str]:
        hashes: dict[str, str] = {}
        for name, svc in self.desired.services.items():
            for prefix, values in (("env", svc.env), ("build_env", svc.build_env)):
                for key, value in values.items():
                    if value.has_secret:
                        hashes[f"service.{name}.{prefix}.{key}"] = value.salted_hash(
                            self.options.salt
                        )
        return dict(sorted(hashes.items()))


def _safe(parse: Callable[[str], int], text: str) -> int:
    try:
        return parse(text)
    except ValueError:
        return 0


def service_config_digest(
    service: DesiredService,
    live: ObservedService,
    dependency_env: Mapping[str, Mapping[str, SecretStr]],
) -> str:
    """The `config` stamp field for `live`'s current variables, limited to the keys odplan
    manages: all of them with `env_policy: replace`, only the manifest's and the used
    dependencies' keys with `merge` (so an unmanaged key edited in the dashboard causes no
    redeploy). Apply calls it on the service read back right before it deploys."""
    env = {k: v.get_secret_value() for k, v in live.env.items()}
    build = {k: v.get_secret_value() for k, v in live.build_variables.items()}
    if service.env_policy == "merge":
        env_keys = set(service.env)
        for dep in service.uses:
            env_keys |= set(dependency_env.get(dep, {}))
        env = {k: v for k, v in env.items() if k in env_keys}
        build = {k: v for k, v in build.items() if k in service.build_env}
    return config_digest(env, build, live.id)


def make_plan(
    desired: DesiredState,
    observed: ObservedState,
    options: PlanOptions = _DEFAULT_OPTIONS,
) -> Plan:
    """Diff `desired` against `observed` into a `Plan`. Pure: same inputs, same plan."""
    return _Planner(desired, observed, options).run()
