"""What refresh read from the gateway: the live state of one project, as pure frozen data.

`ObservedState` is built by `opendeploy_plan.state.refresh` (gateway → models) and by tests; the
planner compares it with a `DesiredState`. Values that may be secret (runtime and build
variables, dependency `env_vars`) are held as `pydantic.SecretStr`: masked in `repr`, `str` and
`model_dump_json`, readable only through `.get_secret_value()`.

Construction (every field but the identifiers has a default)::

    ObservedState(
        project=ObservedProject(id="p1", name="shop", region_id="r1", has_source=True),
        dependencies={"db": ObservedDependency(id="d1", type="postgres", status="running",
                                              env_vars={"DATABASE_URL": "postgres://..."})},
        services={"web": ObservedService(id="s1", type="web", environment="production",
                                         env={"LOG_LEVEL": "info"},
                                         deployments=[ObservedDeployment(id="dep1",
                                             status="success", created_at="2026-01-01T00:00:00Z",
                                             description="...odplan:v1 ...")],
                                         domain=ObservedDomain(id="dom1",
                                             domain="shop.opendeploy.run",
                                             environment="production"))},
    )

Keys: services by service name; dependencies by their manifest key (the `display_name` odplan
gives them at create, falling back to `name`). Refresh lists *every* live service and dependency
of the project, managed or not: the planner works out which are unmanaged.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from opendeploy_plan.timestamps import parse_timestamp, timestamp_order

__all__ = [
    "ObservedDependency",
    "ObservedDeployment",
    "ObservedDomain",
    "ObservedProject",
    "ObservedService",
    "ObservedState",
    "parse_timestamp",
    "timestamp_order",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ObservedProject(BaseModel):
    """The live project row. `has_source` is true when `project.source_path` is non-empty."""

    model_config = _FROZEN

    id: str
    name: str
    region_id: str | None = None
    description: str | None = None
    has_source: bool = False
    # Rows of the project that belong to another environment (`service.web (staging)`): not
    # this plan's to change, but deleting the project would take them too.
    other_environment_rows: tuple[str, ...] = ()


class ObservedDependency(BaseModel):
    """A live dependency (database). `env_vars` values are secret (passwords, URLs)."""

    model_config = _FROZEN

    id: str
    type: str
    status: str = "running"
    display_name: str | None = None
    name: str | None = None
    environment: str | None = None
    env_vars: dict[str, SecretStr] = Field(default_factory=dict)


class ObservedDeployment(BaseModel):
    """One deployment row; `description` carries the odplan stamp when odplan made it."""

    model_config = _FROZEN

    id: str
    status: str
    progress: int = 0
    description: str | None = None
    # Parsed from the gateway's RFC 3339 text (None when missing or unreadable).
    created_at: datetime | None = None

    @field_validator("created_at", mode="before")
    @classmethod
    def _parse_created_at(cls, value: object) -> datetime | None:
        return parse_timestamp(value)

    def created_at_sort_key(self) -> datetime:
        """`created_at` for ordering; a deployment without a readable time sorts first.
        (Parsed again: `model_copy(update=...)` skips validation and may leave text here.)"""
        return timestamp_order(self.created_at)


class ObservedDomain(BaseModel):
    """The service's auto domain row for the plan's environment (`type: auto`)."""

    model_config = _FROZEN

    id: str
    domain: str
    environment: str


class ObservedService(BaseModel):
    """A live service row with its runtime env, latest deployments and auto domain.

    `deployments` may be given in any order; the planner sorts them by `created_at`.
    `env` and `build_variables` hold secret values (`SecretStr`).
    """

    model_config = _FROZEN

    id: str
    type: str
    environment: str
    language: str | None = None
    framework: str | None = None
    port: int | None = None
    source_path: str | None = None
    build_command: str | None = None
    dockerfile: str | None = None
    dockerfile_path: str | None = None
    build_context: str | None = None
    health_check_path: str | None = None
    readiness_path: str | None = None
    cpu_request: str | None = None
    cpu_limit: str | None = None
    memory_request: str | None = None
    memory_limit: str | None = None
    replicas: int | None = None
    auto_scaling: bool | None = None
    internal_only: bool | None = None
    dependencies: tuple[str, ...] = ()
    build_variables: dict[str, SecretStr] = Field(default_factory=dict)
    env: dict[str, SecretStr] = Field(default_factory=dict)
    # Row fields the gateway did not return (`dependencies`, `build_variables`: the documents
    # never show them): unknown, not empty, so the planner sees no difference there.
    unread_fields: frozenset[str] = frozenset()
    deployments: tuple[ObservedDeployment, ...] = ()
    domain: ObservedDomain | None = None

    def latest_deployment(self) -> ObservedDeployment | None:
        """The most recent deployment by `created_at`, or None when never deployed."""
        if not self.deployments:
            return None
        return max(self.deployments, key=ObservedDeployment.created_at_sort_key)

    def latest_successful_deployment(self) -> ObservedDeployment | None:
        """The most recent deployment whose status is `success`, or None."""
        successful = [d for d in self.deployments if d.status == "success"]
        if not successful:
            return None
        return max(successful, key=ObservedDeployment.created_at_sort_key)


class ObservedState(BaseModel):
    """Everything refresh read for one project; `project` is None when it does not exist.

    Invariant: when `project` is None, `services` and `dependencies` are empty.
    """

    model_config = _FROZEN

    project: ObservedProject | None = None
    dependencies: dict[str, ObservedDependency] = Field(default_factory=dict)
    services: dict[str, ObservedService] = Field(default_factory=dict)
    # Keys with more than one live database in this environment (the platform does not keep
    # names unique): every id, the managed one first (the one the services' env points at,
    # else the first listed), then the others in the gateway's order; `dependencies` holds the
    # managed one.
    duplicate_dependencies: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # Of those keys, the services whose env points at another row than the managed one:
    # `{key: {service name: dependency id}}`. Applying would re-point them (data loss).
    dependency_strays: dict[str, dict[str, str]] = Field(default_factory=dict)

    @classmethod
    def empty(cls) -> ObservedState:
        """The state of a project that does not exist yet."""
        return cls()
