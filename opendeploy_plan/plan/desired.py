"""What the manifest asks for after resolution: `DesiredState`, the planner's left-hand side.

The lead's resolver builds it from a loaded manifest (environment overlay applied, secrets read,
source digested). Values of `env` and `build_env` are `DesiredValue`s made of parts:

- `DesiredValue.literal("info")`: plain text, shown in plans;
- `DesiredValue.secret("STRIPE_KEY", value)`: held as `SecretStr`, masked in every view and in
  `repr`; a saved plan keeps only `salted_hash(salt)`;
- `DesiredValue.dependency("db", "DATABASE_URL")`: a `${{ dependencies.db.DATABASE_URL }}`
  reference. The planner resolves it against the live dependency's `env_vars` (the result is
  sensitive) or shows it as "(known after apply)" when the dependency does not exist yet or is
  being replaced;
- `DesiredValue.template(...)`: any mix of the three, e.g. `"https://" + secret + "@host"`.

Pydantic validation also accepts shorthands (used by the golden test cases): a plain string is a
literal, `{"secret": NAME, "value": V}` a secret, `{"dependency": KEY, "key": VAR}` a reference,
`{"parts": [...]}` a template. Construction::

    DesiredState(
        project="shop", environment="production", region_id="r1",
        source=DesiredSource(digest="sha256:ab..."),
        dependencies={"db": DesiredDependency(type="postgres")},
        services={"web": DesiredService(type="web", port=8080, uses=("db",),
                                        source_path="web", source_digest="sha256:cd...",
                                        env={"LOG_LEVEL": DesiredValue.literal("info")})},
    )

Attributes left `None` are not managed: the planner never diffs them (the platform default
stays).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from opendeploy_plan.platform import Environment

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class LiteralPart(BaseModel):
    """Plain text, safe to show."""

    model_config = _FROZEN
    kind: Literal["literal"] = "literal"
    text: str


class SecretPart(BaseModel):
    """A secret's value; `name` (e.g. the secret's key in the store) is safe to show."""

    model_config = _FROZEN
    kind: Literal["secret"] = "secret"
    name: str
    value: SecretStr


class DependencyPart(BaseModel):
    """A `${{ dependencies.<dependency>.<key> }}` reference into a dependency's env_vars."""

    model_config = _FROZEN
    kind: Literal["dependency"] = "dependency"
    dependency: str
    key: str

    def placeholder(self) -> str:
        return "${{ dependencies." + f"{self.dependency}.{self.key}" + " }}"


ValuePart = Annotated[LiteralPart | SecretPart | DependencyPart, Field(discriminator="kind")]


class DesiredValue(BaseModel):
    """One env value as a sequence of parts. Never prints a secret (see module docstring)."""

    model_config = _FROZEN
    parts: tuple[ValuePart, ...]

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"parts": [{"kind": "literal", "text": data}]}
        if isinstance(data, Mapping) and "parts" not in data:
            if "secret" in data:
                return {
                    "parts": [{"kind": "secret", "name": data["secret"], "value": data["value"]}]
                }
            if "dependency" in data:
                part = {"kind": "dependency", "dependency": data["dependency"], "key": data["key"]}
                return {"parts": [part]}
        return data

    @classmethod
    def literal(cls, text: str) -> DesiredValue:
        return cls(parts=(LiteralPart(text=text),))

    @classmethod
    def secret(cls, name: str, value: str) -> DesiredValue:
        return cls(parts=(SecretPart(name=name, value=SecretStr(value)),))

    @classmethod
    def dependency(cls, dependency: str, key: str) -> DesiredValue:
        return cls(parts=(DependencyPart(dependency=dependency, key=key),))

    @classmethod
    def template(cls, *parts: LiteralPart | SecretPart | DependencyPart | str) -> DesiredValue:
        """Concatenate parts; plain strings become literal parts."""
        return cls(parts=tuple(LiteralPart(text=p) if isinstance(p, str) else p for p in parts))

    @property
    def is_literal(self) -> bool:
        """True when every part is literal: the value may be shown."""
        return all(isinstance(p, LiteralPart) for p in self.parts)

    @property
    def has_secret(self) -> bool:
        return any(isinstance(p, SecretPart) for p in self.parts)

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts if isinstance(p, SecretPart))

    @property
    def dependency_refs(self) -> tuple[DependencyPart, ...]:
        return tuple(p for p in self.parts if isinstance(p, DependencyPart))

    def literal_text(self) -> str:
        """The text of a literal value; raises ValueError for anything sensitive."""
        if not self.is_literal:
            raise ValueError("value is not a literal")
        return "".join(p.text for p in self.parts if isinstance(p, LiteralPart))

    def resolve(self, dependency_env: Mapping[str, Mapping[str, SecretStr]]) -> str | None:
        """The concrete value, or None when a referenced dependency variable is unknown.

        `dependency_env` maps a dependency key to its live `env_vars`; a missing dependency or
        key makes the whole value unknown ("known after apply").
        """
        pieces: list[str] = []
        for part in self.parts:
            if isinstance(part, LiteralPart):
                pieces.append(part.text)
            elif isinstance(part, SecretPart):
                pieces.append(part.value.get_secret_value())
            else:
                variables = dependency_env.get(part.dependency)
                if variables is None or part.key not in variables:
                    return None
                pieces.append(variables[part.key].get_secret_value())
        return "".join(pieces)

    def canonical_text(self) -> str:
        """Secrets substituted, dependency references kept as placeholders (never printed)."""
        pieces: list[str] = []
        for part in self.parts:
            if isinstance(part, LiteralPart):
                pieces.append(part.text)
            elif isinstance(part, SecretPart):
                pieces.append(part.value.get_secret_value())
            else:
                pieces.append(part.placeholder())
        return "".join(pieces)

    def salted_hash(self, salt: bytes) -> str:
        """`hmac-sha256:<hex>` of the canonical text under `salt`: what a saved plan keeps."""
        digest = hmac.new(salt, self.canonical_text().encode(), hashlib.sha256).hexdigest()
        return f"hmac-sha256:{digest}"

    def display_template(self) -> str:
        """A safe rendering: literals shown, secrets as `(secret NAME)`, references as `${{…}}`."""
        pieces: list[str] = []
        for part in self.parts:
            if isinstance(part, LiteralPart):
                pieces.append(part.text)
            elif isinstance(part, SecretPart):
                pieces.append(f"(secret {part.name})")
            else:
                pieces.append(part.placeholder())
        return "".join(pieces)

    def __repr__(self) -> str:
        return f"DesiredValue({self.display_template()!r})"

    def __str__(self) -> str:
        return self.display_template()


class DesiredSource(BaseModel):
    """The project's one source: a local archive (`digest` of the whole archive) or git."""

    model_config = _FROZEN
    kind: Literal["archive", "git"] = "archive"
    digest: str
    git_url: str | None = None
    branch: str | None = None


class DesiredDependency(BaseModel):
    """A database the manifest declares; all fields but `type` are create-only."""

    model_config = _FROZEN
    type: str
    template: str | None = None
    database_name: str | None = None
    username: str | None = None


# Fields of the service row the planner compares (API names); None in the manifest = unmanaged.
SERVICE_SETTING_FIELDS: tuple[str, ...] = (
    "language",
    "framework",
    "port",
    "source_path",
    "build_command",
    "dockerfile",
    "dockerfile_path",
    "build_context",
    "health_check_path",
    "readiness_path",
    "cpu_request",
    "cpu_limit",
    "memory_request",
    "memory_limit",
    "replicas",
    "auto_scaling",
    "internal_only",
)
# Changing these takes effect in place (the K8s deployment rolls): no redeploy.
RESIZE_FIELDS: frozenset[str] = frozenset(
    {"cpu_request", "cpu_limit", "memory_request", "memory_limit", "replicas", "auto_scaling"}
)
QUANTITY_FIELDS: frozenset[str] = frozenset(
    {"cpu_request", "cpu_limit", "memory_request", "memory_limit"}
)


class DesiredService(BaseModel):
    """A service as the manifest wants it. `after` = sibling services (the API `dependencies`
    field, also deploy ordering); `uses` = dependency keys whose env_vars are injected."""

    model_config = _FROZEN
    type: str = "web"
    language: str | None = None
    framework: str | None = None
    port: int | None = None
    source_path: str | None = None
    source_digest: str | None = None
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
    after: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    env: dict[str, DesiredValue] = Field(default_factory=dict)
    build_env: dict[str, DesiredValue] = Field(default_factory=dict)
    env_policy: Literal["replace", "merge"] = "replace"
    subdomain: str | None = None

    def variables_from(self) -> frozenset[str]:
        """The dependency keys this service gets variables of: those it `uses` (injected) and
        those its env or build variables reference."""
        refs = {
            ref.dependency
            for value in [*self.env.values(), *self.build_env.values()]
            for ref in value.dependency_refs
        }
        return frozenset(self.uses) | refs

    def settings(self) -> dict[str, str | int | bool]:
        """The managed service-row fields (API names), omitting those the manifest leaves unset."""
        values: dict[str, str | int | bool] = {}
        for name in SERVICE_SETTING_FIELDS:
            value = getattr(self, name)
            if value is not None:
                values[name] = value
        return values


class DesiredState(BaseModel):
    """The whole desired project for one environment. Invariant: `uses` name declared
    dependencies and `after` names declared services (the planner reports violations)."""

    model_config = _FROZEN
    project: str
    environment: Environment = "production"
    region_id: str | None = None
    description: str | None = None
    source: DesiredSource
    dependencies: dict[str, DesiredDependency] = Field(default_factory=dict)
    services: dict[str, DesiredService] = Field(default_factory=dict)

    def service_digest(self, name: str) -> str:
        """The digest a deployment of `name` is built from (its subfolder, else the project)."""
        return self.services[name].source_digest or self.source.digest
