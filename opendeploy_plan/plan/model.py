"""The plan model: action kinds, UI-only reasons, planned actions, options and the `Plan` itself.

As in Terraform's `internal/plans`, `ActionKind` says *what* apply does and `ActionReason` only
explains it to people: apply must never branch on a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any

from opendeploy_plan.diagnostics import Diagnostic
from opendeploy_plan.plan.fingerprint import fingerprint_parts, parts_changed

if TYPE_CHECKING:
    from opendeploy_plan.plan.graph import ActionGraph
    from opendeploy_plan.state.model import ObservedState


class ActionKind(StrEnum):
    """What apply does at an address. No-ops are never part of a plan."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    BIND_SOURCE = "bind_source"
    DEPLOY = "deploy"
    RENAME_DOMAIN = "rename_domain"
    WAIT = "wait"


class ActionReason(StrEnum):
    """Why an action is planned: for people only, never for decisions during apply."""

    NEW = "new"
    NEW_PROJECT = "new_project"
    NEW_SERVICE = "new_service"
    SERVICE_REPLACED = "service_replaced"
    TYPE_CHANGED = "type_changed"
    ENVIRONMENT_CHANGED = "environment_changed"
    REPLACE_REQUESTED = "replace_requested"
    DEPENDENCY_FAILED = "dependency_failed"
    RESOURCES_CHANGED = "resources_changed"
    SETTINGS_CHANGED = "settings_changed"
    BUILD_ENV_CHANGED = "build_env_changed"
    ENV_CHANGED = "env_changed"
    DEPENDENCY_ENV_CHANGED = "dependency_env_changed"
    SOURCE_CHANGED = "source_changed"
    CONFIG_NOT_DEPLOYED = "config_not_deployed"
    SOURCE_UNKNOWN = "source_unknown"
    PROJECT_HAS_NO_SOURCE = "project_has_no_source"
    NEVER_DEPLOYED = "never_deployed"
    LATEST_DEPLOYMENT_FAILED = "latest_deployment_failed"
    DEPLOYMENT_IN_FLIGHT = "deployment_in_flight"
    REDEPLOY_REQUESTED = "redeploy_requested"
    SUBDOMAIN_CHANGED = "subdomain_changed"
    PRUNE = "prune"
    DESTROY = "destroy"


REASON_TEXT: Mapping[ActionReason, str] = {
    ActionReason.NEW: "not found live",
    ActionReason.NEW_PROJECT: "the project does not exist yet",
    ActionReason.NEW_SERVICE: "first deployment of a new service",
    ActionReason.SERVICE_REPLACED: "the service is being replaced",
    ActionReason.TYPE_CHANGED: "type changed, which forces replacement",
    ActionReason.ENVIRONMENT_CHANGED: "environment changed, which forces replacement",
    ActionReason.REPLACE_REQUESTED: "replacement requested with --replace",
    ActionReason.DEPENDENCY_FAILED: "provisioning failed live; recreating it",
    ActionReason.RESOURCES_CHANGED: "resources changed (applied in place, no redeploy)",
    ActionReason.SETTINGS_CHANGED: "service settings changed",
    ActionReason.BUILD_ENV_CHANGED: "build variables changed",
    ActionReason.ENV_CHANGED: "runtime variables changed",
    ActionReason.DEPENDENCY_ENV_CHANGED: "a dependency it uses is new or replaced",
    ActionReason.SOURCE_CHANGED: "source changed since the last deployment",
    ActionReason.CONFIG_NOT_DEPLOYED: (
        "live variables differ from those the latest deployment started with"
    ),
    ActionReason.SOURCE_UNKNOWN: "the bound source is unknown (unstamped latest deployment)",
    ActionReason.PROJECT_HAS_NO_SOURCE: "the project has no source bound yet",
    ActionReason.NEVER_DEPLOYED: "the service was never deployed",
    ActionReason.LATEST_DEPLOYMENT_FAILED: "the latest deployment did not succeed",
    ActionReason.DEPLOYMENT_IN_FLIGHT: "a deployment is already in progress",
    ActionReason.REDEPLOY_REQUESTED: "redeploy requested with --redeploy",
    ActionReason.SUBDOMAIN_CHANGED: "the auto subdomain differs from the manifest (no redeploy)",
    ActionReason.PRUNE: "live but not in the manifest, and --prune is set",
    ActionReason.DESTROY: "odplan destroy",
}


class Mask(Enum):
    """A value that is not shown: a secret, or one only known once apply has run."""

    SENSITIVE = "(sensitive value)"
    UNKNOWN = "(known after apply)"

    def __str__(self) -> str:
        return self.value


# A value as views may show it: plain JSON data, or a Mask in place of what must not be shown.
DisplayValue = str | int | bool | None | Mask | list[Any] | dict[str, Any]


class ChangeKind(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    CHANGE = "change"


@dataclass(frozen=True)
class AttributeChange:
    """One attribute difference at `path` (`port`, `env.API_KEY`, `build_env.X`, `domain`).

    `before`/`after` are display values (already masked). `note` explains a side effect, e.g.
    "forces replacement" or "kept: env_policy merge".
    """

    path: str
    kind: ChangeKind
    before: DisplayValue = None
    after: DisplayValue = None
    note: str | None = None


@dataclass(frozen=True)
class PlannedAction:
    """One step of a plan. `address` is unique within a plan; `depends_on` lists the addresses of
    the actions that must finish first. `changes` are display-safe (secrets masked)."""

    address: str
    kind: ActionKind
    reason: ActionReason
    changes: tuple[AttributeChange, ...] = ()
    depends_on: tuple[str, ...] = ()
    detail: str | None = None
    # For a deploy or wait: the id of the in-flight deployment to wait for before going on.
    waits_for_deployment: str | None = None

    @property
    def before(self) -> dict[str, DisplayValue]:
        return {c.path: c.before for c in self.changes if c.kind is not ChangeKind.ADD}

    @property
    def after(self) -> dict[str, DisplayValue]:
        return {c.path: c.after for c in self.changes if c.kind is not ChangeKind.REMOVE}


@dataclass(frozen=True)
class PlanNote:
    """Information worth a line in the plan that is neither a change nor a problem."""

    address: str
    message: str


@dataclass(frozen=True)
class PlanOptions:
    """How to plan. Addresses use the forms in `opendeploy_plan.plan.addresses`.

    `salt` keys every hash the plan keeps (observed fingerprint, secret hashes): the CLI passes
    `new_salt()`; the empty default keeps tests deterministic but cannot be saved.
    """

    target: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    redeploy: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    refresh_only: bool = False
    prune: bool = False
    allow_data_loss: bool = False
    guest: bool = False
    salt: bytes = b""


@dataclass(frozen=True)
class PlanSummary:
    create: int = 0
    update: int = 0
    destroy: int = 0
    deploy: int = 0
    wait: int = 0
    upload: int = 0

    def line(self) -> str:
        """`Plan: 2 to create, 1 to update, 0 to destroy, 2 to deploy.` (+ waits when any)."""
        text = (
            f"Plan: {self.create} to create, {self.update} to update, "
            f"{self.destroy} to destroy, {self.deploy} to deploy"
        )
        if self.wait:
            text += f", {self.wait} to wait for"
        return text + "."


def summarize(actions: tuple[PlannedAction, ...]) -> PlanSummary:
    """Count actions Terraform-style: a replace counts as one create and one destroy; domain
    renames count as updates; a source bind is part of deploying and counted apart (`upload`)."""
    create = update = destroy = deploy = wait = upload = 0
    for action in actions:
        if action.kind is ActionKind.CREATE:
            create += 1
        elif action.kind is ActionKind.REPLACE:
            create += 1
            destroy += 1
        elif action.kind is ActionKind.DELETE:
            destroy += 1
        elif action.kind is ActionKind.DEPLOY:
            deploy += 1
        elif action.kind is ActionKind.WAIT:
            wait += 1
        elif action.kind is ActionKind.BIND_SOURCE:
            upload += 1
        else:
            update += 1
    return PlanSummary(create, update, destroy, deploy, wait, upload)


@dataclass(frozen=True, eq=False)
class Plan:
    """The result of `make_plan`: what apply will do, in a dependency-respecting order.

    Invariants: `actions` is topologically sorted (ties by address); every `depends_on` names an
    action in `actions`; `graph` has one node per action (the node key is the address) and an
    edge `a -> b` when `b` needs `a`. In refresh-only mode `actions` is empty and `drift` holds
    what a normal plan would do about live differences.
    """

    project: str
    environment: str
    actions: tuple[PlannedAction, ...]
    graph: ActionGraph
    options: PlanOptions
    fingerprint: str
    fingerprint_parts: Mapping[str, str]
    secret_hashes: Mapping[str, str]
    source_digest: str
    diagnostics: tuple[Diagnostic, ...] = ()
    notes: tuple[PlanNote, ...] = ()
    unmanaged: tuple[str, ...] = ()
    drift: tuple[PlannedAction, ...] = ()
    _index: dict[str, PlannedAction] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index.update({a.address: a for a in self.actions})

    @property
    def refresh_only(self) -> bool:
        return self.options.refresh_only

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if not d.is_error)

    @property
    def has_changes(self) -> bool:
        """True when apply would do something (or, refresh-only, when there is drift)."""
        return bool(self.drift) if self.refresh_only else bool(self.actions)

    @property
    def detailed_exit_code(self) -> int:
        """Terraform's `-detailed-exitcode`: 0 no changes, 1 errors, 2 changes (or drift)."""
        if self.errors:
            return 1
        return 2 if self.has_changes else 0

    @property
    def summary(self) -> PlanSummary:
        return summarize(self.actions)

    def action(self, address: str) -> PlannedAction | None:
        return self._index.get(address)

    def addresses(self) -> tuple[str, ...]:
        return tuple(a.address for a in self.actions)

    def changes_since(self, observed: ObservedState) -> list[str]:
        """Addresses whose live state differs from what this plan was made against (sorted).

        An empty list means the plan is still current: a saved plan may be applied.
        """
        return parts_changed(self.fingerprint_parts, fingerprint_parts(observed, self.options.salt))
