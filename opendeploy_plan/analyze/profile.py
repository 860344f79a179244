"""How to install, build and run each service of a folder: a small, stable view of the analysis
for code that runs apps (a local runtime), so it never reads detection internals."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from opendeploy_plan.analyze.model import ServiceAnalysis, ServiceKind

# The install step for each package manager, run in the service's folder before the build.
# Lockfile-respecting where the manager has such a mode; None where the build installs itself.
INSTALL_COMMANDS: Final[dict[str, str | None]] = {
    "npm": "npm install",
    "pnpm": "pnpm install",
    "yarn": "yarn install",
    "bun": "bun install",
    "deno": None,
    "pip": "pip install -r requirements.txt",
    "poetry": "poetry install --no-root",
    "uv": "uv sync",
    "pdm": "pdm install --prod",
    "pipenv": "pipenv install --deploy",
    "bundler": "bundle install",
    "composer": "composer install --no-dev",
    "go": "go mod download",
    "cargo": None,
    "maven": None,
    "gradle": None,
    "dotnet": "dotnet restore",
    "mix": "mix deps.get",
}


@dataclass(frozen=True)
class RunProfile:
    """One service: where it lives (`source`, relative to the analysed root), what it is, and
    the commands to install, build and start it (run in `source`). `port` is None for workers,
    static sites and when it could not be told; `confirm` lists what detection was unsure of."""

    name: str
    source: str
    language: str | None
    type: ServiceKind
    package_manager: str | None
    install_command: str | None
    build_command: str | None
    start_command: str | None
    port: int | None
    dockerfile: str | None
    confirm: tuple[str, ...]


def profile_of(service: ServiceAnalysis) -> RunProfile:
    manager = service.package_manager.value if service.package_manager else None
    install = INSTALL_COMMANDS.get(manager) if manager else None
    if manager == "pip" and service.package_manager is not None:
        evidence = service.package_manager.file.rsplit("/", 1)[-1]
        if not evidence.startswith("requirements"):
            install = "pip install ." if evidence in ("pyproject.toml", "setup.py") else None
    return RunProfile(
        name=service.name,
        source=service.source,
        language=service.language.value if service.language else None,
        type=service.kind,
        package_manager=manager,
        install_command=install,
        build_command=service.build_command.value if service.build_command else None,
        start_command=service.start_command.value if service.start_command else None,
        port=service.port.port if service.port else None,
        dockerfile=service.dockerfile,
        confirm=tuple(service.confirm),
    )


def run_profiles(root: Path) -> list[RunProfile]:
    """Every service `odplan init` would find under `root`; empty when it would refuse."""
    from opendeploy_plan.analyze.engine import analyze

    analysis = analyze(root)
    if analysis.refusal is not None:
        return []
    return [profile_of(service) for service in analysis.services]
