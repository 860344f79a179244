"""Resolve a loaded manifest into the planner's `DesiredState`.

This is the effectful edge on the manifest side: it reads secrets (process environment first,
then the service's dotenv files), digests the source folder, and maps `region` to a region id.
Problems come back as diagnostics (a missing secret names the variable and where to set it);
secret values stay inside `DesiredValue` parts and are never formatted into a message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from opendeploy_plan.diagnostics import Diagnostic
from opendeploy_plan.manifest import (
    DependencyRef,
    EnvFileError,
    GitSource,
    Manifest,
    SecretRef,
    TemplateError,
    default_env_files,
    load_env_files,
    lookup_secret,
    parse_template,
)
from opendeploy_plan.manifest import Service as ManifestService
from opendeploy_plan.plan import (
    DependencyPart,
    DesiredDependency,
    DesiredService,
    DesiredSource,
    DesiredState,
    DesiredValue,
    LiteralPart,
    SecretPart,
)
from opendeploy_plan.source import (
    SourceDigest,
    SourceError,
    digest_source,
    normalize_subpath,
    select_files,
    shown_path,
)

AUTO_REGION = "auto"
NOT_READ = "not-read"  # the source digest of a names-only resolution (destroy)


@dataclass(frozen=True)
class RegionChoice:
    """A region the gateway offers, as much of it as resolution needs."""

    id: str
    code: str
    name: str
    active: bool


@dataclass
class Resolution:
    """The desired state (None when a diagnostic is an error), its diagnostics, and the source
    digest that was computed (reused by apply to build the archive it describes)."""

    desired: DesiredState | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: SourceDigest | None = None
    git_tokens: dict[str, str] = field(default_factory=dict, repr=False)


def env_file_paths(manifest: Manifest, environment: str) -> tuple[str, ...]:
    """Every dotenv file the manifest reads secrets from (each service's `env_files`, else the
    default list): they are held back from the source archive whatever their names."""
    paths: set[str] = set()
    for service in manifest.services.values():
        files = service.env_files
        paths.update(default_env_files(environment) if files is None else files)
    return tuple(sorted(paths))


def service_source_path(service: ManifestService) -> str:
    """The API `source_path` of a path-sourced service: its folder inside the archive, `.` for
    the root. Git-sourced services build from the repository root."""
    if isinstance(service.source, GitSource):
        return "."
    return normalize_subpath(service.source) or "."


def resolve_desired(
    manifest: Manifest,
    manifest_dir: Path,
    environment: str,
    *,
    process_env: Mapping[str, str],
    regions: Sequence[RegionChoice] | None = None,
    manifest_file: str = "opendeploy.yaml",
    names_only: bool = False,
    reuse_listings: bool = False,
    locate: Callable[[str], tuple[int, int]] | None = None,
) -> Resolution:
    """Build the DesiredState for `environment` (the manifest has its overlay applied).

    `names_only=True` (destroy) needs only what the manifest names: the source folder, env
    files and region are not read (the code may be gone already), and unset secrets resolve
    to "". The state's source digest is then `NOT_READ`. `reuse_listings` answers unchanged
    folders from the listing cache (`odplan plan`); otherwise the source folder is walked
    afresh and the cache refreshed (`odplan apply`: what it uploads is decided by a fresh walk).
    """
    problems: list[Diagnostic] = []

    def error(path: str, summary: str, detail: str = "") -> None:
        line, col = locate(path) if locate is not None else (0, 0)
        problems.append(Diagnostic(manifest_file, line, col, "error", path, summary, detail))

    region_id = _resolve_region(manifest.project.region, regions, error)
    git_tokens: dict[str, str] = {}
    source_digest: SourceDigest | None = None
    if names_only:
        source = DesiredSource(digest=NOT_READ)
    else:
        source, source_digest, git_tokens = _resolve_source(
            manifest, manifest_dir, process_env, error, manifest_file, reuse_listings
        )

    services: dict[str, DesiredService] = {}
    env_file_cache: dict[tuple[str, ...] | None, dict[str, str]] = {}
    for name, service in manifest.services.items():
        key = tuple(service.env_files) if service.env_files is not None else None
        if names_only:
            env_file_cache[key] = {}  # destroy reads no env file
        elif key not in env_file_cache:
            try:
                env_file_cache[key] = load_env_files(manifest_dir, service.env_files, environment)
            except EnvFileError as exc:
                error(f"services.{name}.env_files", str(exc), "Save it as UTF-8 text.")
                env_file_cache[key] = {}
        secrets = _SecretLookup(process_env, env_file_cache[key], required=not names_only)
        env = _values(service.env, secrets, f"services.{name}.env", error)
        build_env = _values(service.build_env, secrets, f"services.{name}.build_env", error)
        digest = source_digest.services.get(name) if source_digest is not None else None
        services[name] = _desired_service(service, env, build_env, digest)

    if problems:
        return Resolution(None, problems, source_digest)
    desired = DesiredState(
        project=manifest.project.name,
        environment=environment,  # checked by the manifest loader
        region_id=region_id,
        description=manifest.project.description,
        source=source,
        dependencies={
            name: DesiredDependency(
                type=dep.type,
                template=dep.template,
                database_name=dep.database_name,
                username=dep.username,
            )
            for name, dep in manifest.dependencies.items()
        },
        services=services,
    )
    return Resolution(
        desired, _large_files(source_digest, manifest_file), source_digest, git_tokens
    )


def _large_files(digest: SourceDigest | None, manifest_file: str) -> list[Diagnostic]:
    """A warning per file big enough to be a mistake (a dump, a sparse image): it would be
    uploaded, and the plan is where a user looks before it is."""
    if digest is None:
        return []
    return [
        Diagnostic(manifest_file, 0, 0, "warning", "services", f"{shown_path(w.path)}: {w.message}")
        for w in digest.selection.warnings
        if w.code == "large-file"
    ]


class _SecretLookup:
    """`${{ secrets.NAME }}`: the process environment first, then the dotenv files; an empty
    value counts as unset (`lookup_secret`), "" when it is empty everywhere."""

    def __init__(
        self, process_env: Mapping[str, str], files: Mapping[str, str], required: bool = True
    ) -> None:
        self._process_env = process_env
        self._files = files
        self._required = required

    def get(self, name: str) -> str | None:
        found = lookup_secret(name, self._process_env, self._files)
        return found if found is not None or self._required else ""

    @property
    def required(self) -> bool:
        return self._required


def _values(
    values: Mapping[str, str],
    secrets: _SecretLookup,
    path: str,
    error: _ErrorSink,
) -> dict[str, DesiredValue]:
    resolved: dict[str, DesiredValue] = {}
    for key, text in values.items():
        try:
            template = parse_template(text)
        except TemplateError as exc:  # the loader reports these; keep going defensively
            error(f"{path}.{key}", exc.message)
            continue
        parts: list[LiteralPart | SecretPart | DependencyPart] = []
        for part in template:
            if isinstance(part, str):
                parts.append(LiteralPart(text=part))
            elif isinstance(part, SecretRef):
                value = secrets.get(part.name)
                if value is None and part.allow_empty:
                    value = ""
                if value == "" and not part.allow_empty and secrets.required:
                    error(
                        f"{path}.{key}",
                        f"secret {part.name} is empty",
                        "An empty secret would replace the live value with nothing. Set "
                        f"{part.name}, or write ${{{{ secrets.{part.name} || '' }}}} in the "
                        "manifest if empty is meant.",
                    )
                    continue
                if value is None:
                    error(
                        f"{path}.{key}",
                        f"secret {part.name} is not set",
                        f"Export {part.name} in the environment, or add it to one of the "
                        "service's env files (.env, .env.local, .env.<environment>, …).",
                    )
                    continue
                parts.append(SecretPart(name=part.name, value=SecretStr(value)))
            elif isinstance(part, DependencyRef):
                parts.append(DependencyPart(dependency=part.dependency, key=part.key))
        if not parts:
            parts.append(LiteralPart(text=""))
        resolved[key] = DesiredValue(parts=tuple(parts))
    return resolved


def _desired_service(
    service: ManifestService,
    env: dict[str, DesiredValue],
    build_env: dict[str, DesiredValue],
    source_digest: str | None,
) -> DesiredService:
    cpu = service.resources.cpu if service.resources else None
    memory = service.resources.memory if service.resources else None
    return DesiredService(
        type=service.type,
        language=service.language,
        framework=service.framework,
        port=service.port,
        source_path=service_source_path(service),
        source_digest=source_digest,
        build_command=service.build_command,
        dockerfile_path=service.dockerfile,
        build_context=service.build_context,
        health_check_path=service.health_check_path,
        readiness_path=service.readiness_path,
        cpu_request=cpu.request if cpu else None,
        cpu_limit=cpu.limit if cpu else None,
        memory_request=memory.request if memory else None,
        memory_limit=memory.limit if memory else None,
        replicas=service.replicas,
        auto_scaling=service.auto_scaling,
        internal_only=service.internal_only,
        after=tuple(service.after),
        uses=tuple(service.uses),
        env=env,
        build_env=build_env,
        env_policy=service.env_policy,
        subdomain=service.subdomain,
    )


class _ErrorSink(Protocol):
    def __call__(self, path: str, summary: str, detail: str = "") -> None: ...


def _resolve_region(
    region: str, regions: Sequence[RegionChoice] | None, error: _ErrorSink
) -> str | None:
    """`auto` leaves the region unmanaged (apply picks the first active one at create)."""
    if region == AUTO_REGION or regions is None:
        return None
    for choice in regions:
        if region in (choice.id, choice.code):
            if not choice.active:
                error("project.region", f"region {region} is not active")
            return choice.id
    known = ", ".join(sorted(c.code or c.id for c in regions if c.active)) or "none"
    error("project.region", f"unknown region {region!r}", f"Active regions: {known}.")
    return None


def _resolve_source(
    manifest: Manifest,
    manifest_dir: Path,
    process_env: Mapping[str, str],
    error: _ErrorSink,
    manifest_file: str,
    reuse_listings: bool,
) -> tuple[DesiredSource, SourceDigest | None, dict[str, str]]:
    """One source per project: the manifest's folder, or one git repository for every service."""
    git = {n: s.source for n, s in manifest.services.items() if isinstance(s.source, GitSource)}
    paths = {n: s.source for n, s in manifest.services.items() if isinstance(s.source, str)}
    if git:
        repos = {(g.git, g.branch) for g in git.values()}
        if paths or len(repos) > 1:
            error(
                "services",
                "all services of a project must share one source",
                "The platform binds one source to a project: either every service builds from "
                "a folder next to the manifest, or every service uses the same git repository.",
            )
            return DesiredSource(digest="invalid"), None, {}
        url, branch = next(iter(repos))
        tokens: dict[str, str] = {}
        for g in git.values():
            if g.token_env:
                token = process_env.get(g.token_env)
                if not token:  # empty is unset: never send an empty credential
                    error("services", f"git token variable {g.token_env} is not set or empty")
                else:
                    tokens["git_token"] = token
        ref = f"git:{url}#{branch or ''}"
        return DesiredSource(kind="git", digest=ref, git_url=url, branch=branch), None, tokens
    try:
        selection = select_files(
            manifest_dir,
            manifest=manifest_file,
            secret_files=env_file_paths(manifest, manifest.environment),
            listings="reuse" if reuse_listings else "refresh",
        )
        digest = digest_source(manifest_dir, paths, selection=selection)
    except SourceError as exc:
        error("services", str(exc))
        return DesiredSource(digest="invalid"), None, {}
    return DesiredSource(digest=digest.digest), digest, {}
