"""Rules that relate manifest values to each other, and warnings.

They run on the merged plain data (not on validated models) so that one broken service does
not hide another's mistakes: every check tolerates values of the wrong type, which the models
already report.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path as FsPath
from typing import Final, Protocol

from opendeploy_plan.diagnostics import Severity
from opendeploy_plan.manifest._yaml import Path
from opendeploy_plan.manifest.models import relative_path_problem
from opendeploy_plan.manifest.templates import DependencyRef, TemplateError, parse_template

_SECRET_LOOKING_KEY: Final = re.compile(r"(_KEY$|^KEY$|SECRET|TOKEN|PASSWORD|PASSWD)", re.I)
_TEMPLATED_FIELDS: Final = ("env", "build_env")
_ROUTED_TYPES: Final = ("web", "static")


class Reporter(Protocol):
    def __call__(
        self,
        severity: Severity,
        path: Path,
        summary: str,
        detail: str = "",
        *,
        at_key: bool = False,
    ) -> None: ...


def did_you_mean(word: str, choices: list[str]) -> str:
    """`"; did you mean 'port'?"` when a choice is close to `word`, else ``."""
    close = difflib.get_close_matches(word, choices)  # best first; cutoff 0.6
    return f"; did you mean {close[0]!r}?" if close else ""


def _mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _items(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def check_overlay_names(
    environment: str, overlay: dict[str, object], base: dict[str, object], report: Reporter
) -> None:
    """Every service and dependency an overlay names must exist in the base manifest: an
    overlay for `wbe` would otherwise be a whole new (and broken) service in one environment
    and a silent no-op for `web`."""
    for section, noun in (("services", "service"), ("dependencies", "dependency")):
        named = overlay.get(section)
        declared = base.get(section)
        if not isinstance(named, dict):
            continue
        known = [str(key) for key in declared] if isinstance(declared, dict) else []
        for key in named:
            if key in known:
                continue
            listed = f"; the base manifest's {section}: " + (", ".join(known) or "none")
            report(
                "error",
                ("environments", environment, section, key),
                f"unknown {noun} {key!r}" + (did_you_mean(key, known) or listed),
                f"An overlay changes {section} of the base manifest; declare the {noun} "
                f"under the top-level `{section}` first.",
                at_key=True,
            )


def check_relations(data: dict[str, object], sources_dir: FsPath | None, report: Reporter) -> None:
    """Every cross-value rule and warning for one environment's merged manifest; source
    folders are checked against `sources_dir` (the manifest's folder) unless it is None."""
    services = _mapping(data.get("services"))
    dependencies = _mapping(data.get("dependencies"))
    _check_after(services, report)
    _check_uses(services, dependencies, report)
    _check_env_values(services, dependencies, report)
    _check_subdomains(services, report)
    if sources_dir is not None:
        _check_sources(services, sources_dir, report)
    if not services:
        report(
            "warning",
            ("services",),
            "no services: only the project and its dependencies would be created",
        )
    _check_unused_dependencies(services, dependencies, report)


def _check_after(services: dict[str, object], report: Reporter) -> None:
    names = sorted(services)
    edges: dict[str, list[str]] = {}
    for name, spec in services.items():
        for index, target in enumerate(_items(_mapping(spec).get("after"))):
            if not isinstance(target, str):
                continue
            path = ("services", name, "after", index)
            if target == name:
                report("error", path, f"service {name!r} cannot come after itself")
            elif target not in services:
                report(
                    "error",
                    path,
                    f"unknown service {target!r}{did_you_mean(target, names)}",
                    "`after` lists sibling services; databases go in `uses`.",
                )
            else:
                edges.setdefault(name, []).append(target)
    for cycle in _cycles(edges):
        first = cycle[0]
        report(
            "error",
            ("services", first, "after"),
            "services wait for each other in a cycle: " + " → ".join([*cycle, first]),
            "Remove one of these `after` entries.",
        )


def _cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """Each cycle the depth-first walk closes, once, rotated to start at its smallest name
    (self-loops excluded). Loops sharing an entry may show one at a time: the next appears
    once the first is broken."""
    found: set[tuple[str, ...]] = set()
    seen: set[str] = set()
    stack: list[str] = []  # the current path

    def visit(node: str) -> None:
        seen.add(node)
        stack.append(node)
        for target in edges.get(node, []):
            if target in stack:
                cycle = stack[stack.index(target) :]
                start = cycle.index(min(cycle))
                found.add(tuple(cycle[start:] + cycle[:start]))
            elif target not in seen:
                visit(target)
        stack.pop()

    for node in sorted(edges):
        if node not in seen:
            visit(node)
    return [list(cycle) for cycle in sorted(found)]


def _check_uses(
    services: dict[str, object], dependencies: dict[str, object], report: Reporter
) -> None:
    for name, spec in services.items():
        for index, target in enumerate(_items(_mapping(spec).get("uses"))):
            if not isinstance(target, str) or target in dependencies:
                continue
            if target in services:
                detail = f"{target!r} is a service: list services in `after`."
            else:
                detail = "Declare it under `dependencies`."
            report(
                "error",
                ("services", name, "uses", index),
                f"unknown dependency {target!r}{did_you_mean(target, sorted(dependencies))}",
                detail,
            )


def _check_env_values(
    services: dict[str, object], dependencies: dict[str, object], report: Reporter
) -> None:
    for name, spec in services.items():
        for field in _TEMPLATED_FIELDS:
            for key, value in _mapping(_mapping(spec).get(field)).items():
                if not isinstance(value, str):
                    continue
                path = ("services", name, field, key)
                try:
                    parts = parse_template(value)
                except TemplateError:
                    continue  # the model reports it
                for part in parts:
                    if isinstance(part, DependencyRef) and part.dependency not in dependencies:
                        report(
                            "error",
                            path,
                            f"{part} refers to unknown dependency {part.dependency!r}"
                            + did_you_mean(part.dependency, sorted(dependencies)),
                        )
                literal = all(isinstance(part, str) for part in parts)
                if literal and value and _SECRET_LOOKING_KEY.search(key):
                    report(
                        "warning",
                        path,
                        f"{key} looks like a secret written in plain text; "
                        f"use ${{{{ secrets.{key} }}}}",
                        "The manifest is committed and reviewed; secrets belong in the "
                        "environment or an untracked .env file.",
                    )


def _check_subdomains(services: dict[str, object], report: Reporter) -> None:
    claimed: dict[str, str] = {}
    for name, spec in services.items():
        service = _mapping(spec)
        subdomain = service.get("subdomain")
        if not isinstance(subdomain, str):
            continue
        path = ("services", name, "subdomain")
        if subdomain in claimed:
            report(
                "error",
                path,
                f"subdomain {subdomain!r} is already claimed by service {claimed[subdomain]!r}",
            )
            continue
        claimed[subdomain] = name
        kind = service.get("type")  # absent: a web service, which gets a domain
        if isinstance(kind, str) and kind not in _ROUTED_TYPES:
            report("warning", path, f"a {kind} service gets no domain; the subdomain is ignored")
        elif service.get("internal_only") is True:
            report(
                "warning",
                path,
                "internal_only blocks external traffic; the subdomain would not be reachable",
            )


def _check_sources(services: dict[str, object], manifest_dir: FsPath, report: Reporter) -> None:
    root = manifest_dir.resolve()
    for name, spec in services.items():
        source = _mapping(spec).get("source", ".")
        if not isinstance(source, str) or relative_path_problem(source) is not None:
            continue
        folder = (manifest_dir / source).resolve()
        path = ("services", name, "source")
        if folder != root and root not in folder.parents:
            report("error", path, f"{source!r} leads outside the manifest's folder (symlink)")
        elif not folder.is_dir():
            report(
                "error",
                path,
                f"folder {source!r} does not exist next to the manifest",
                f"Looked for {folder}.",
            )


def _check_unused_dependencies(
    services: dict[str, object], dependencies: dict[str, object], report: Reporter
) -> None:
    used: set[str] = set()
    for spec in services.values():
        service = _mapping(spec)
        used.update(item for item in _items(service.get("uses")) if isinstance(item, str))
        for field in _TEMPLATED_FIELDS:
            for value in _mapping(service.get(field)).values():
                if isinstance(value, str):
                    used.update(re.findall(r"dependencies\.([a-z0-9-]+)\.", value))
    for name in dependencies:
        if name not in used:
            report(
                "warning",
                ("dependencies", name),
                f"dependency {name!r} is not used by any service",
                "Add it to a service's `uses` to inject its connection variables.",
                at_key=True,
            )
