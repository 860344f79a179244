"""Typed views of the gateway's answers, tolerant of extra fields and the documented variants.

Variants the docs name: `.service_id // .id`, `.guest_id // .agent_id`, `.domain // .url`, env
`variables` as a list or a map, lists bare or wrapped under `.data`. Env values are kept out of
every repr so a model in a traceback never shows one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from opendeploy_plan.auditlog import is_secret_key
from opendeploy_plan.textsafe import escape_tree, safe_text

# Free text the gateway writes for a human (messages, reasons, log lines): controls escaped
# on the way in (textsafe.py), so no view can print an escape sequence it sent.
SafeStr = Annotated[str, AfterValidator(safe_text)]
SafeTree = Annotated[Any, AfterValidator(escape_tree)]

# Env maps may arrive under any of these names, also as unknown (extra) fields.
_ENV_FIELDS = frozenset({"variables", "env", "env_vars", "runtime_variables", "build_variables"})


class GatewayModel(BaseModel):
    """Base: keeps unknown fields (for read-back), never fails on them.

    Invariant: the repr never shows an env map or a secret-looking field, known or extra.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name is not None and (name in _ENV_FIELDS or is_secret_key(name)):
                continue
            yield name, value


def _env_map(value: Any) -> dict[str, str]:
    """Env as `{key: value}`. The docs show `variables: [...]` without the item shape, so every
    reading form is accepted: a map, `[{key|name, value}]` rows and `["KEY=value"]` strings.

    Anything else raises "unreadable env" (never an empty map: unknown is not empty, and an
    empty env would make the next apply replace the live one). No value is ever quoted.
    """
    if value is None:
        return {}
    if isinstance(value, dict):
        if all(isinstance(v, str | int | float | bool) or v is None for v in value.values()):
            return {str(k): "" if v is None else str(v) for k, v in value.items()}
        raise ValueError("unreadable env: a map whose values are not plain strings")
    if isinstance(value, list):
        result: dict[str, str] = {}
        for index, row in enumerate(value):
            key, raw = _env_row(row)
            if key is None:
                raise ValueError(
                    f'unreadable env: item {index} is neither {{key|name, value}} nor "KEY=value"'
                )
            result[key] = raw
        return result
    raise ValueError("unreadable env: expected a map or a list of variables")


def _env_row(row: Any) -> tuple[str | None, str]:
    """One list item: `{key|name, value}` or `"KEY=value"`; `(None, "")` when it is neither."""
    if isinstance(row, dict):
        key = row.get("key", row.get("name"))
        raw = row.get("value")
        if not isinstance(key, str) or not key or isinstance(raw, dict | list):
            return None, ""
        return key, "" if raw is None else str(raw)
    if isinstance(row, str):
        key, sep, raw = row.partition("=")
        if sep and key.strip():
            return key.strip(), raw
    return None, ""


class Region(GatewayModel):
    id: str
    name: str = ""
    code: str = ""
    status: str = ""
    environment: str = ""


class Profile(GatewayModel):
    id: str = ""
    email: str = ""
    plan: str = ""


class GuestRegistration(GatewayModel):
    """The answer of `POST /v1/client-guests/register`. `api_key` is None on a replay."""

    guest_id: str = Field(default="", validation_alias=AliasChoices("guest_id", "agent_id"))
    api_key: SecretStr | None = None
    bind_sig: SecretStr | None = None
    gateway: str = ""
    name: str = ""
    expires_in_seconds: int | None = None
    # The server's bind_url is ignored by design (auth.md): it is derived locally instead.
    bind_url: str | None = Field(default=None, exclude=True, repr=False)


class Project(GatewayModel):
    id: str
    name: str = ""
    repo_url: str = ""
    branch: str = ""
    region_id: str = ""
    description: str = ""
    source_path: str = ""
    created_at: str = ""


class ServiceCreated(GatewayModel):
    """`POST /v1/projects/:id/services` answers a message and an id, not a Service."""

    service_id: str = Field(validation_alias=AliasChoices("service_id", "id"))
    message: SafeStr = ""


class Service(GatewayModel):
    id: str = Field(validation_alias=AliasChoices("id", "service_id"))
    name: str = ""
    type: str = ""
    environment: str = ""
    project_id: str = ""
    port: int | None = None
    source_path: str = ""
    cpu_request: str | None = None
    cpu_limit: str | None = None
    memory_request: str | None = None
    memory_limit: str | None = None
    replicas: int | None = None
    status: str = ""
    runtime_variables: dict[str, str] = Field(default_factory=dict, repr=False)
    build_variables: dict[str, str] = Field(default_factory=dict, repr=False)

    @field_validator("runtime_variables", "build_variables", mode="before")
    @classmethod
    def _variables(cls, value: Any) -> dict[str, str]:
        return _env_map(value)

    @field_validator("cpu_request", "cpu_limit", "memory_request", "memory_limit", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> Any:
        # Some builds answer numbers (cores / GiB); keep them comparable as strings.
        return str(value) if isinstance(value, int | float) else value


class EnvVars(GatewayModel):
    """Runtime variables of a service; `variables` normalised to a map.

    An answer without `variables` while `count` says there are some is unreadable, not empty.
    """

    service_id: str = ""
    variables: dict[str, str] = Field(default_factory=dict, repr=False)
    count: int | None = None

    @field_validator("variables", mode="before")
    @classmethod
    def _variables(cls, value: Any) -> dict[str, str]:
        return _env_map(value)

    @model_validator(mode="after")
    def _count_matches(self) -> EnvVars:
        if "variables" not in self.model_fields_set and self.count:
            raise ValueError(f"unreadable env: count is {self.count} but no variables were sent")
        return self


class Dependency(GatewayModel):
    id: str
    dependency_id: str = ""
    name: str = ""
    display_name: str = ""
    type: str = ""
    status: str = ""
    environment: str = ""
    project_id: str = ""
    message: SafeStr = ""
    env_vars: dict[str, str] = Field(default_factory=dict, repr=False)

    @field_validator("env_vars", mode="before")
    @classmethod
    def _variables(cls, value: Any) -> dict[str, str]:
        return _env_map(value)

    @property
    def kind(self) -> str:
        """The dependency type (`postgres`, …), whichever field the gateway filled."""
        return self.type or self.dependency_id


class DependencyStatus(GatewayModel):
    dependencies: list[Dependency] = Field(default_factory=list)

    @field_validator("dependencies", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class UploadResult(GatewayModel):
    temp_file_path: str
    filename: str = ""
    git_url: str = ""
    branch: str = ""
    is_git: bool = False


class SourceUpdate(GatewayModel):
    project_id: str = ""
    source_path: str = ""
    services: list[dict[str, Any]] = Field(default_factory=list, repr=False)
    message: SafeStr = ""

    @field_validator("services", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class Deployment(GatewayModel):
    id: str
    status: str = ""
    progress: int | None = None
    project_id: str = ""
    service_id: str = ""
    environment: str = ""
    description: str = ""
    source: str = ""
    temp_file_path: str = ""
    message: SafeStr = ""
    error_msg: SafeStr = ""
    error_context: SafeTree = None
    created_at: str = ""
    completed_at: str | None = None

    @field_validator("message", "error_msg", "description", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value


class DeploymentLogs(GatewayModel):
    """`logs` is None when the build failed before writing anything (the progress=10 case)."""

    deployment_id: str = ""
    logs: list[SafeTree] | None = None
    total: int = 0


class ServiceLogs(GatewayModel):
    logs: list[SafeTree] | None = None


class ServiceDomain(GatewayModel):
    id: str
    service_id: str = ""
    project_id: str = ""
    domain: str = Field(default="", validation_alias=AliasChoices("domain", "url"))
    environment: str = ""
    type: str = ""
    status: str = ""
    ssl_enabled: bool = False
    is_primary: bool = False

    @property
    def url(self) -> str:
        """The domain as an https URL (the docs allow either a bare FQDN or a URL)."""
        return self.domain if "://" in self.domain else f"https://{self.domain}"


class SubdomainCheck(GatewayModel):
    available: bool
    reason: SafeStr = ""


class Acknowledgement(GatewayModel):
    """A free-form `{status|message, …}` answer (cancel, rollback, domain retry, delete)."""

    status: str = ""
    message: SafeStr = ""


class Quota(GatewayModel):
    """`GET /v1/billing/quota`: undocumented shape; every field is kept as extra."""


class BuildLogLine(GatewayModel):
    """One line of the build log (`build-logs/stream`, a WebSocket, or its SSE fallback)."""

    message: SafeStr
    timestamp: str | None = None
    level: str | None = None
    phase: str | None = None


class SseEvent(GatewayModel):
    """One server-sent event from a log stream."""

    event: str = "message"
    data: str = ""
    id: str | None = None
