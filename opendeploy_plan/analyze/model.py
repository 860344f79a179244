"""What detection found: facts with their evidence and confidence, per service and per project."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# high: a manifest or config file states it (a dependency, an EXPOSE, a listen(3000)).
# medium: a documented framework default or a strong convention (Django -> 8000).
# low: inferred from weak signals (a base image, a file name in a build tool's layout).
Confidence = Literal["high", "medium", "low"]
CONFIDENCE_ORDER: dict[Confidence, int] = {"low": 0, "medium": 1, "high": 2}

ServiceKind = Literal["web", "worker", "static"]


@dataclass(frozen=True)
class Fact:
    """One detected value and where it came from (`file` is root-relative)."""

    value: str
    file: str
    reason: str
    confidence: Confidence = "high"


@dataclass(frozen=True)
class PortCandidate:
    """A port some file suggests. Lower `rank` wins: 0 the start command (the port it binds, or
    its server's default), 1 Dockerfile, 2 compose, 3 code/config, 4 framework default
    (analyze-local.md's priority order, with what actually runs first)."""

    port: int
    rank: int
    file: str
    reason: str
    # True when the port is a server's default rather than written down (medium confidence).
    default: bool = False


@dataclass(frozen=True)
class EnvVar:
    """An environment variable a service reads. `default` comes only from example files or
    code fallbacks, never from a real `.env` file."""

    name: str
    build_time: bool
    required: bool
    default: str | None
    sources: tuple[str, ...]
    secret: bool
    fallback_in_code: bool = False


@dataclass
class Detection:
    """What one ecosystem detector learned about one folder; merged into a ServiceAnalysis."""

    language: Fact
    framework: Fact | None = None
    package_manager: Fact | None = None
    build_command: Fact | None = None
    start_command: Fact | None = None
    kind: ServiceKind = "web"
    ports: list[PortCandidate] = field(default_factory=list)
    databases: list[Fact] = field(default_factory=list)
    health_check_path: Fact | None = None
    output_directory: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class ServiceAnalysis:
    """Everything `init` knows about one service. `port` is None for workers, static sites and
    when the port is unknown or ambiguous (`port_candidates` then says which were seen)."""

    name: str
    source: str
    kind: ServiceKind
    language: Fact | None
    framework: Fact | None
    package_manager: Fact | None
    build_command: Fact | None
    start_command: Fact | None
    port: PortCandidate | None
    port_confidence: Confidence | None
    port_ambiguous: tuple[PortCandidate, ...]
    dockerfile: str | None
    health_check_path: Fact | None
    env: list[EnvVar]
    databases: list[Fact]
    uses: list[str]
    after: list[str]
    notes: list[str]
    compose_service: str | None = None
    compose_depends_on: list[str] = field(default_factory=list)
    uses_reasons: dict[str, str] = field(default_factory=dict)
    # What the user should confirm (asked on a terminal, `# TODO confirm:` in the manifest).
    confirm: list[str] = field(default_factory=list)

    @property
    def confidence(self) -> Confidence:
        """The weakest of the facts that decide how the service runs."""
        levels: list[Confidence] = []
        if self.language is None:
            return "low"
        levels.append(self.language.confidence)
        if self.framework is not None:
            levels.append(self.framework.confidence)
        if self.kind == "web":
            if self.port is None or self.port_confidence is None:
                return "low"
            levels.append(self.port_confidence)
        if self.start_command is None and self.dockerfile is None and self.kind != "static":
            levels.append("low")
        return min(levels, key=lambda level: CONFIDENCE_ORDER[level])

    @property
    def has_entrypoint(self) -> bool:
        return (
            self.start_command is not None
            or self.dockerfile is not None
            or self.kind == "static"
            or self.port is not None
        )


@dataclass(frozen=True)
class DependencyAnalysis:
    """A database the project needs, provisioned by the platform (`dependencies:` entry)."""

    name: str
    type: str
    evidence: Fact
    compose_name: str | None = None


@dataclass
class Analysis:
    """The whole project. `refusal` is set when the source must not be deployed at all."""

    project_name: str
    root: str
    layout: str
    services: list[ServiceAnalysis]
    dependencies: list[DependencyAnalysis]
    notes: list[str]
    refusal: str | None = None
    skipped_env_files: list[str] = field(default_factory=list)
