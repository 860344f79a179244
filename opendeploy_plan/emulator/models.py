"""Request and response bodies of the gateway, as documented in the skill's api-schemas.md.

Request models are strict (a Go decoder does not turn "2" into 2) and ignore unknown fields;
responses list every field a client needs to read state back.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

NonEmpty = Field(min_length=1)


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorBody(_Response):
    error: str


class Message(_Response):
    message: str


# --- client guests -----------------------------------------------------------------------


class RegisterRequest(_Request):
    model_config = ConfigDict(title="RegisterRequest")
    source_hint: str | None = None
    name: str | None = None
    hostname: str | None = None


class RegisterResponse(_Response):
    guest_id: str
    api_key: str | None = None
    gateway: str
    bind_sig: str
    name: str
    bind_url: str
    expires_in_seconds: int


class GuestStatus(_Response):
    guest_id: str
    state: str
    name: str
    hostname: str
    created_at: str
    last_deployed_at: str | None
    expires_at: str | None


class BindRequest(_Request):
    model_config = ConfigDict(title="BindRequest")
    sig: str = NonEmpty
    name: str | None = None


class BindResponse(_Response):
    guest_id: str
    bound_at: str
    name: str
    project_ids: list[str]


class GuestItem(_Response):
    guest_id: str
    name: str
    hostname: str
    prefix: str
    state: str
    bound_at: str | None
    source_ip: str
    source_user_agent: str
    last_deployed_at: str | None


class GuestList(_Response):
    data: list[GuestItem]
    total: int


class GuestPatch(_Request):
    model_config = ConfigDict(title="PatchGuestRequest")
    name: str | None = None


class Profile(_Response):
    id: str
    email: str
    name: str
    plan: str
    created_at: str


# --- regions, projects -------------------------------------------------------------------


class Region(_Response):
    id: str
    name: str
    code: str
    status: str
    environment: str


class ProjectCreate(_Request):
    model_config = ConfigDict(title="CreateProjectRequest")
    name: str = NonEmpty
    repo_url: str = NonEmpty
    branch: str | None = None
    token: str | None = None
    build_config: str | None = None
    deploy_config: str | None = None
    region_id: str | None = None
    skip_validation: bool | None = None
    description: str | None = None


class Project(_Response):
    id: str
    name: str
    repo_url: str
    branch: str
    region_id: str
    description: str
    skip_validation: bool
    build_config: str
    deploy_config: str
    source_path: str
    original_file_path: str
    analyze_config: str | None
    status: str
    created_at: str
    updated_at: str


class ProjectList(_Response):
    data: list[Project]
    total: int


# --- services ----------------------------------------------------------------------------


class _ServiceSettings(_Request):
    """What a service create and a service update share: every field optional."""

    language: str | None = None
    framework: str | None = None
    port: int | None = None
    source_path: str | None = None
    dockerfile: str | None = None
    dockerfile_path: str | None = None
    build_context: str | None = None
    build_command: str | None = None
    build_variables: dict[str, str] | None = None
    health_check_path: str | None = None
    readiness_path: str | None = None
    cpu_request: str | None = None
    cpu_limit: str | None = None
    memory_request: str | None = None
    memory_limit: str | None = None
    replicas: int | None = None
    auto_scaling: bool | None = None
    dependencies: list[str] | None = None
    internal_only: bool | None = None


class ServiceCreate(_ServiceSettings):
    model_config = ConfigDict(title="CreateServiceRequest")
    name: str = NonEmpty
    type: str = NonEmpty
    environment: str = NonEmpty
    runtime_variables: dict[str, str] | None = None


class ServiceUpdate(_ServiceSettings):
    """`PUT /v1/services/:id`: a partial update; `name` and `environment` are immutable."""

    model_config = ConfigDict(title="UpdateServiceRequest")
    type: str | None = None


class ServiceCreated(_Response):
    message: str
    service_id: str


class Service(_Response):
    id: str
    project_id: str
    name: str
    type: str
    environment: str
    language: str
    framework: str
    port: int | None
    source_path: str
    dockerfile: str
    dockerfile_path: str
    build_context: str
    build_command: str
    build_variables: dict[str, str]
    health_check_path: str
    readiness_path: str
    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    replicas: int
    auto_scaling: bool
    internal_only: bool
    dependencies: list[str]
    status: str
    created_at: str
    updated_at: str


class ServiceList(_Response):
    data: list[Service]
    total: int


class EnvPut(_Request):
    model_config = ConfigDict(title="UpdateEnvRequest")
    variables: dict[str, str]


class EnvVariable(_Response):
    key: str
    value: str


class EnvResponse(_Response):
    service_id: str
    variables: list[EnvVariable]
    count: int


class ServiceLogs(_Response):
    service_id: str
    logs: list[LogEntry]
    total: int


# --- dependencies ------------------------------------------------------------------------


class DependencyCreate(_Request):
    model_config = ConfigDict(title="CreateDependencyRequest")
    project_id: str = NonEmpty
    dependency_id: str = NonEmpty
    template_id: str | None = None
    environment: str | None = None
    service_id: str | None = None
    display_name: str | None = None
    username: str | None = None
    password: str | None = None
    database_name: str | None = None


class Dependency(_Response):
    id: str
    project_id: str
    dependency_id: str
    name: str
    display_name: str
    type: str
    template_id: str
    status: str
    environment: str
    env_vars: dict[str, str]
    message: str
    created_at: str


class DependencyStatus(_Response):
    project_id: str
    dependencies: list[Dependency]


# --- upload ------------------------------------------------------------------------------


class UploadResponse(_Response):
    temp_file_path: str
    filename: str
    git_url: str
    branch: str
    is_git: bool
    size: int


class UpdateSource(_Request):
    model_config = ConfigDict(title="UpdateSourceRequest")
    project_id: str = NonEmpty
    temp_file_path: str = NonEmpty
    analysis: dict[str, Any] | None = None


class UpdateSourceResponse(_Response):
    project_id: str
    source_path: str
    services: list[Service]
    message: str


# --- deployments -------------------------------------------------------------------------


class ResourceLimits(_Request):
    """Per-deploy override: numeric cores and GiB (K8s strings are rejected, as documented)."""

    model_config = ConfigDict(title="ResourceLimits")
    cpu_request: float | None = None
    cpu_limit: float | None = None
    memory_request: float | None = None
    memory_limit: float | None = None


class DeploymentCreate(_Request):
    model_config = ConfigDict(title="CreateDeploymentRequest")
    project_id: str = NonEmpty
    service_id: str = NonEmpty
    environment: str = NonEmpty
    source: str = NonEmpty
    temp_file_path: str = NonEmpty
    branch: str | None = None
    resources: ResourceLimits | None = None
    strategy: str | None = None
    version_type: str | None = None
    description: str | None = None
    env_vars: dict[str, str] | None = None
    dependencies: list[str] | None = None
    is_rollback: bool | None = None
    use_github_token: bool | None = None


class Deployment(_Response):
    id: str
    project_id: str
    service_id: str
    environment: str
    status: str
    progress: int
    source: str
    branch: str
    temp_file_path: str
    description: str
    strategy: str
    version: str
    version_type: str
    dependencies: list[str]
    is_rollback: bool
    rollback_from_id: str | None
    message: str
    error_msg: str
    error_context: str
    created_at: str
    updated_at: str
    completed_at: str | None
    runtime_logs_query: dict[str, str]


class DeploymentList(_Response):
    data: list[Deployment]
    total: int


class LogEntry(_Response):
    timestamp: str
    level: str
    phase: str
    message: str


class DeploymentLogs(_Response):
    deployment_id: str
    logs: list[LogEntry] | None
    total: int


# --- domains -----------------------------------------------------------------------------


class ServiceDomain(_Response):
    id: str
    service_id: str
    project_id: str
    domain: str
    environment: str
    type: str
    status: str
    ssl_enabled: bool
    is_primary: bool
    created_at: str
    updated_at: str


class SubdomainCheck(_Response):
    subdomain: str
    available: bool
    reason: str


class SubdomainRename(_Request):
    model_config = ConfigDict(title="UpdateSubdomainRequest")
    subdomain: str = NonEmpty


class CustomDomainCreate(_Request):
    model_config = ConfigDict(title="CreateServiceDomainRequest")
    service_id: str = NonEmpty
    domain: str = NonEmpty
    environment: str | None = None


class RetryResponse(_Response):
    id: str
    status: str


# --- billing -----------------------------------------------------------------------------


class QuotaItem(_Response):
    name: str
    limit: int
    used: int


class Quota(_Response):
    plan: str
    quotas: list[QuotaItem]


ServiceLogs.model_rebuild()
