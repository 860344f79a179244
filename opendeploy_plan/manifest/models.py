"""The manifest's typed model (format version 1): what `opendeploy.yaml` may say.

These models check each value on its own (types, ranges, formats); rules that relate values to
each other (references, cycles, duplicate subdomains) live in `checks.py`. Platform facts come
from `opendeploy_plan.platform`, never from copies.
"""

from __future__ import annotations

import posixpath
import re
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from opendeploy_plan import platform
from opendeploy_plan.manifest.templates import (
    ENV_KEY_RE,
    TemplateError,
    has_expression,
    parse_template,
)

FORMAT_VERSION: Final = 1
DEFAULT_SOURCE: Final = "."

_REGION_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_DB_IDENTIFIER_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_GIT_URL_RE: Final = re.compile(r"^(https?://|ssh://|git@)[^\s]+$")


def _problem(message: str) -> PydanticCustomError:
    # One error type for all our own rules: the loader prints the message verbatim.
    return PydanticCustomError("odplan", message)


def _dns_label(value: str) -> str:
    if not platform.is_dns_label(value):
        raise _problem(
            f"must be a lowercase DNS label: 1-{platform.DNS_LABEL_MAX_CHARS} characters of "
            f"a-z, 0-9 and '-', not starting or ending with '-' (got {value!r})"
        )
    return value


def _region(value: str) -> str:
    if not _REGION_RE.match(value):
        raise _problem(f"must be 'auto', a region id or a region code (got {value!r})")
    return value


def _subdomain(value: str) -> str:
    problem = platform.subdomain_problem(value)
    if problem is not None:
        raise _problem(f"{problem} (got {value!r})")
    return value


def _url_path(value: str) -> str:
    if not value.startswith("/"):
        raise _problem(f"must start with '/' (got {value!r})")
    if any(ch.isspace() for ch in value):
        raise _problem(f"must not contain whitespace (got {value!r})")
    return value


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise _problem(f"must be between 1 and 65535 (got {value})")
    return value


# Kubernetes stores a Deployment's replicas as int32; the gateway (Go) would overflow or 400.
REPLICAS_MAX: Final = 2**31 - 1
# Kubernetes keeps a quantity as an int64 of its smallest unit (millicores, bytes).
_QUANTITY_MAX: Final = 2**63 - 1


def _replicas(value: int) -> int:
    if value < 1:
        raise _problem(f"must be at least 1 (got {value})")
    if value > REPLICAS_MAX:
        raise _problem(f"must be at most {REPLICAS_MAX} (got {_short_number(value)})")
    return value


def _short_number(value: int) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:20]}… ({len(text)} digits)"


def relative_path_problem(value: str) -> str | None:
    """Why `value` is not a relative path that stays inside the manifest's folder, or None."""
    if not value.strip():
        return "must not be empty (use '.' for the manifest's folder)"
    if "\\" in value:
        return f"use '/' as the path separator (got {value!r})"
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value) or value.startswith("~"):
        return f"must be a path relative to the manifest, not an absolute path (got {value!r})"
    if posixpath.normpath(value).split("/")[0] == "..":
        return f"must stay inside the manifest's folder; '..' leaves it (got {value!r})"
    return None


def _relative_path(value: str) -> str:
    problem = relative_path_problem(value)
    if problem is not None:
        raise _problem(problem)
    return value


def _env_key(value: str) -> str:
    if not ENV_KEY_RE.match(value):
        raise _problem(
            f"{value!r} is not a valid variable name (letters, digits and '_', "
            "not starting with a digit)"
        )
    if len(value) > platform.ENV_KEY_MAX_CHARS:
        raise _problem(
            f"variable names may be at most {platform.ENV_KEY_MAX_CHARS} characters "
            f"(got {len(value)})"
        )
    return value


def _env_value(value: str) -> str:
    size = len(value.encode("utf-8"))
    if size > platform.ENV_VALUE_MAX_BYTES:
        raise _problem(
            f"values may be at most {platform.ENV_VALUE_MAX_BYTES} bytes (32 KiB) (got {size})"
        )
    try:
        parse_template(value)
    except TemplateError as exc:
        raise _problem(exc.message) from None
    return value


def _cpu(value: str) -> str:
    try:
        amount = platform.parse_quantity(value)
    except ValueError as exc:
        raise _problem(str(exc)) from None
    if amount <= 0:
        raise _problem(f"must be more than 0 (got {value!r})")
    if amount * 1000 > _QUANTITY_MAX:
        raise _problem(f"must be at most {_QUANTITY_MAX // 1000} cores (got {value!r})")
    return value


def _memory(value: str) -> str:
    if value.strip().endswith("m"):
        raise _problem(f"'m' means thousandths of a byte; did you mean {value.strip()[:-1]}Mi?")
    try:
        amount = platform.parse_quantity(value)
    except ValueError as exc:
        raise _problem(str(exc)) from None
    if amount <= 0:
        raise _problem(f"must be more than 0 (got {value!r})")
    if amount > _QUANTITY_MAX:
        raise _problem(f"must be at most {_QUANTITY_MAX} bytes, about 8Ei (got {value!r})")
    return value


def _db_identifier(value: str) -> str:
    if not _DB_IDENTIFIER_RE.match(value):
        raise _problem(
            f"must be 1-63 characters of letters, digits and '_', not starting with a digit "
            f"(got {value!r})"
        )
    return value


def _git_url(value: str) -> str:
    if not _GIT_URL_RE.match(value):
        raise _problem(f"must be an https://, ssh:// or git@ URL (got {value!r})")
    if value.startswith(("http://", "https://", "ssh://")):
        authority = value.partition("://")[2].partition("/")[0]
        userinfo = authority.rpartition("@")[0]
        if userinfo and (value.startswith("http") or ":" in userinfo):
            # Never echo the URL: it holds a credential.
            raise _problem(
                "must not contain credentials; put the token in an environment variable and "
                "name it with token_env"
            )
    return value


# Scalars a YAML author naturally writes unquoted (`PORT: 8080`, `cpu: 1`) are read as the
# text they were written as; the schema says so, so editors do not flag them.
_TEXTUAL: Final = {"type": ["string", "number", "boolean"]}

DnsLabel = Annotated[
    str,
    AfterValidator(_dns_label),
    WithJsonSchema({"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"}),
]
EnvKey = Annotated[str, AfterValidator(_env_key)]
EnvValue = Annotated[
    str,
    AfterValidator(_env_value),
    WithJsonSchema(
        {
            **_TEXTUAL,
            "description": "Text, may hold ${{ secrets.NAME }} (must be set and non-empty), "
            "${{ secrets.NAME || '' }} (may be empty or unset) and "
            "${{ dependencies.<name>.<KEY> }}.",
        }
    ),
]
RelativePath = Annotated[str, AfterValidator(_relative_path)]
UrlPath = Annotated[
    str, AfterValidator(_url_path), WithJsonSchema({"type": "string", "pattern": "^/"})
]
Port = Annotated[
    int,
    AfterValidator(_port),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 65535}),
]
CpuQuantity = Annotated[
    str,
    AfterValidator(_cpu),
    WithJsonSchema({"type": ["string", "number"], "examples": ["250m", "500m", "1"]}),
]
MemoryQuantity = Annotated[
    str,
    AfterValidator(_memory),
    WithJsonSchema({"type": ["string", "number"], "examples": ["256Mi", "512Mi", "1Gi"]}),
]


class _Model(BaseModel):
    # strict: `port: "80"` and `replicas: true` are mistakes, not values to coerce.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _expressions_only_in_env(cls, value: object, info: ValidationInfo) -> object:
        # Outside env values an expression would be sent as literal text (or leak a secret
        # into a build log), so it is refused wherever it appears.
        if info.field_name not in _TEMPLATED_FIELDS and any(
            has_expression(text) for text in _texts(value)
        ):
            raise _problem("${{ … }} expressions are only allowed in env and build_env values")
        return value


_TEMPLATED_FIELDS: Final = frozenset({"env", "build_env"})


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


class Project(_Model):
    """The project every resource lives in, found on the platform by `name`."""

    name: Annotated[DnsLabel, Field(description="Project name: a lowercase DNS label.")]
    region: Annotated[
        str,
        AfterValidator(_region),
        Field(description="`auto` (the first active region), a region id or a region code."),
    ] = "auto"
    description: str | None = None


class Dependency(_Model):
    """A managed database; its password is always generated by the platform."""

    type: platform.DependencyType
    template: Annotated[
        str | None, Field(description="A non-default template, e.g. postgres-15.")
    ] = None
    database_name: Annotated[str, AfterValidator(_db_identifier)] | None = None
    username: Annotated[str, AfterValidator(_db_identifier)] | None = None


class GitSource(_Model):
    """Build from a Git repository instead of the local folder."""

    git: Annotated[str, AfterValidator(_git_url)]
    branch: str | None = None
    token_env: Annotated[
        EnvKey | None,
        Field(description="Name of the environment variable holding the Git token."),
    ] = None


class CpuResources(_Model):
    request: CpuQuantity | None = None
    limit: CpuQuantity | None = None

    @model_validator(mode="after")
    def _request_within_limit(self) -> CpuResources:
        _check_request_within_limit(self.request, self.limit)
        return self


class MemoryResources(_Model):
    request: MemoryQuantity | None = None
    limit: MemoryQuantity | None = None

    @model_validator(mode="after")
    def _request_within_limit(self) -> MemoryResources:
        _check_request_within_limit(self.request, self.limit)
        return self


def _check_request_within_limit(request: str | None, limit: str | None) -> None:
    if request is None or limit is None:
        return
    if platform.parse_quantity(request) > platform.parse_quantity(limit):
        raise _problem(f"request ({request}) must not be more than limit ({limit})")


class Resources(_Model):
    """Kubernetes quantities; changed in place on the platform, without a redeploy."""

    cpu: CpuResources | None = None
    memory: MemoryResources | None = None


def _source_kind(value: Any) -> str:
    return "git" if isinstance(value, dict | GitSource) else "path"


Source = Annotated[
    Annotated[RelativePath, Tag("path")] | Annotated[GitSource, Tag("git")],
    Discriminator(_source_kind),
]


class Service(_Model):
    """One deployable unit, built from `source` and run with these settings."""

    type: platform.ServiceType = "web"
    source: Annotated[
        Source,
        Field(description="A folder relative to the manifest, or {git: URL, branch, token_env}."),
    ] = DEFAULT_SOURCE
    language: str | None = None
    framework: str | None = None
    port: Port | None = None
    build_command: str | None = None
    dockerfile: Annotated[
        RelativePath | None,
        Field(description="Path of the Dockerfile inside the service's source."),
    ] = None
    build_context: Annotated[
        RelativePath | None, Field(description="Build context inside the service's source.")
    ] = None
    health_check_path: UrlPath | None = None
    readiness_path: UrlPath | None = None
    resources: Resources | None = None
    replicas: Annotated[
        int,
        AfterValidator(_replicas),
        WithJsonSchema({"type": "integer", "minimum": 1, "maximum": REPLICAS_MAX}),
    ] = 1
    auto_scaling: bool = False
    internal_only: bool = False
    after: Annotated[
        list[DnsLabel], Field(description="Services this one needs (deployed before it).")
    ] = []
    uses: Annotated[
        list[DnsLabel],
        Field(description="Dependencies whose env_vars are injected into this service."),
    ] = []
    env: dict[EnvKey, EnvValue] = {}
    build_env: dict[EnvKey, EnvValue] = {}
    env_files: Annotated[
        list[RelativePath] | None,
        Field(
            description="Dotenv files that resolve ${{ secrets.* }}; default .env, .env.local, "
            ".env.<environment>, .env.<environment>.local."
        ),
    ] = None
    subdomain: Annotated[
        str | None,
        AfterValidator(lambda v: v if v is None else _subdomain(v)),
        Field(description="Auto-domain prefix: <subdomain>.opendeploy.run."),
    ] = None
    env_policy: Annotated[
        Literal["replace", "merge"],
        Field(description="replace: the manifest is the whole env; merge: keep live-only keys."),
    ] = "replace"


class Manifest(_Model):
    """The effective manifest for one environment (overlays already applied)."""

    version: Literal[1]
    project: Project
    environment: platform.Environment = "production"
    dependencies: dict[DnsLabel, Dependency] = {}
    services: dict[DnsLabel, Service] = {}


def default_env_files(environment: str) -> list[str]:
    """The dotenv files read when a service does not list its own, later ones winning."""
    return [".env", ".env.local", f".env.{environment}", f".env.{environment}.local"]
