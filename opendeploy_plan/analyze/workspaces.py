"""Monorepo workspaces: pnpm, npm/yarn, lerna, Deno, nx and turbo package folders."""

from __future__ import annotations

import fnmatch
from typing import Any, Final

from opendeploy_plan.analyze.repo import RepoView

MONOREPO_MARKERS: Final = ("pnpm-workspace.yaml", "turbo.json", "lerna.json", "nx.json")


def workspace_patterns(view: RepoView) -> tuple[list[str], list[str]]:
    """Workspace folder globs and the files that declared them."""
    patterns: list[str] = []
    sources: list[str] = []
    pnpm: Any = view.yaml("pnpm-workspace.yaml")
    if isinstance(pnpm, dict) and isinstance(pnpm.get("packages"), list):
        patterns += [str(p) for p in pnpm["packages"]]
        sources.append("pnpm-workspace.yaml")
    package = view.json("package.json") or {}
    workspaces = package.get("workspaces")
    if isinstance(workspaces, dict):
        workspaces = workspaces.get("packages")
    if isinstance(workspaces, list):
        patterns += [str(p) for p in workspaces]
        sources.append("package.json")
    lerna = view.json("lerna.json") or {}
    if isinstance(lerna.get("packages"), list):
        patterns += [str(p) for p in lerna["packages"]]
        sources.append("lerna.json")
    for name in ("deno.json", "deno.jsonc"):
        members = (view.json5(name) or {}).get("workspace")
        if isinstance(members, list):
            # Deno 2 workspaces list member folders (`"./api"`), not globs.
            patterns += [str(p).removeprefix("./") for p in members]
            sources.append(name)
            break
    if not patterns and (view.exists("nx.json") or view.exists("turbo.json")):
        patterns = ["apps/*", "packages/*", "services/*"]
        sources.append("nx.json" if view.exists("nx.json") else "turbo.json")
    return patterns, sources


def workspace_folders(view: RepoView) -> tuple[list[str], list[str]]:
    """Folders matched by the workspace globs that hold a package manifest."""
    patterns, sources = workspace_patterns(view)
    includes = [p.rstrip("/") for p in patterns if not p.startswith("!")]
    excludes = [p[1:].rstrip("/") for p in patterns if p.startswith("!")]
    folders: set[str] = set()
    for rel in view.files:
        if "/" not in rel:
            continue
        folder, name = rel.rsplit("/", 1)
        if name not in (
            "package.json",
            "Dockerfile",
            "deno.json",
            "deno.jsonc",
            "pyproject.toml",
            "go.mod",
        ):
            continue
        if any(_matches(folder, p) for p in includes) and not any(
            _matches(folder, p) for p in excludes
        ):
            folders.add(folder)
    return sorted(folders), sources


def _matches(folder: str, pattern: str) -> bool:
    if pattern.endswith("/**"):
        return folder.startswith(pattern[:-3] + "/")
    return fnmatch.fnmatch(folder, pattern) and folder.count("/") == pattern.count("/")


def top_level_dockerfile_folders(view: RepoView) -> list[str]:
    """Immediate subfolders that hold their own Dockerfile (analyze-local.md §2 rule 2)."""
    return sorted(
        rel.rsplit("/", 1)[0]
        for rel in view.files
        if rel.count("/") == 1 and rel.endswith("/Dockerfile")
    )
