"""docker-compose files: services, build contexts, ports, environment, depends_on, DB images."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from opendeploy_plan.analyze.repo import RepoView, join

COMPOSE_FILES: Final = (
    "docker-compose.yml",
    "docker-compose.yaml",
    "compose.yml",
    "compose.yaml",
)
# analyze-local.md §2: images that are dependencies, not build services; mapped to the
# platform's dependency types (None: a dependency the platform cannot provision).
DB_IMAGES: Final[tuple[tuple[str, str | None], ...]] = (
    ("postgres", "postgres"),
    ("postgis", "postgres"),
    ("timescale", "postgres"),
    ("mysql", "mysql"),
    ("mariadb", "mysql"),
    ("mongo", "mongodb"),
    ("redis", "redis"),
    ("valkey", "redis"),
    ("clickhouse", "clickhouse"),
    ("rabbitmq", None),
    ("elasticsearch", None),
    ("meilisearch", None),
    ("minio", None),
)


@dataclass
class ComposeService:
    name: str
    image: str | None
    context: str | None
    dockerfile: str | None
    ports: list[int] = field(default_factory=list)
    environment: dict[str, str | None] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    command: str | None = None


@dataclass
class ComposeFile:
    path: str
    services: list[ComposeService]


def db_type_of_image(image: str) -> tuple[bool, str | None]:
    """(is a database image, platform dependency type) for an image reference."""
    repo = image.split("@", 1)[0].rsplit(":", 1)[0] if ":" in image.split("/")[-1] else image
    last = repo.rsplit("/", 1)[-1].lower()
    for marker, db_type in DB_IMAGES:
        if last == marker or last.startswith(marker + "-") or last.startswith(marker):
            return True, db_type
    return False, None


def find_compose(view: RepoView) -> str | None:
    return next((name for name in COMPOSE_FILES if view.exists(name)), None)


def _container_port(entry: Any) -> int | None:
    if isinstance(entry, dict):
        target = entry.get("target")
        return int(target) if isinstance(target, int | str) and str(target).isdigit() else None
    text = str(entry).split("/", 1)[0]
    last = text.rsplit(":", 1)[-1]
    last = last.split("-", 1)[0]
    return int(last) if last.isdigit() else None


def _environment(value: Any) -> dict[str, str | None]:
    env: dict[str, str | None] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            env[str(key)] = None if item is None else str(item)
    elif isinstance(value, list):
        for item in value:
            key, sep, raw = str(item).partition("=")
            env[key.strip()] = raw if sep else None
    return env


def parse_compose(view: RepoView, rel: str) -> ComposeFile | None:
    data = view.yaml(rel)
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        return None
    base = rel.rsplit("/", 1)[0] if "/" in rel else "."
    services: list[ComposeService] = []
    for name, spec in data["services"].items():
        if not isinstance(spec, dict):
            continue
        build = spec.get("build")
        context: str | None = None
        dockerfile: str | None = None
        if isinstance(build, str):
            context = build
        elif isinstance(build, dict):
            context = str(build.get("context", "."))
            if isinstance(build.get("dockerfile"), str):
                dockerfile = str(build["dockerfile"])
        if context is not None:
            context = _normalise(join(base, context))
        ports = [p for p in (_container_port(e) for e in spec.get("ports") or []) if p]
        expose = [int(str(e)) for e in spec.get("expose") or [] if str(e).isdigit()]
        depends = spec.get("depends_on") or []
        command = spec.get("command")
        services.append(
            ComposeService(
                name=str(name),
                image=str(spec["image"]) if spec.get("image") else None,
                context=context,
                dockerfile=dockerfile,
                ports=ports or expose,
                environment=_environment(spec.get("environment")),
                depends_on=[str(d) for d in depends],
                command=" ".join(map(str, command)) if isinstance(command, list) else command,
            )
        )
    return ComposeFile(rel, services)


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in re.split(r"/+", path):
        if part in ("", "."):
            continue
        if part == ".." and parts:
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts) or "."
