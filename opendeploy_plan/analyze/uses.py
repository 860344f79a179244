"""Which databases become `dependencies:` and which services `use` them (analyze-local.md §4),
and which of a service's variables a used dependency provides."""

from __future__ import annotations

import re

from opendeploy_plan.analyze.dependencies import (
    CONNECTION_VALUES,
    URL_KEY,
    database_type_from_name,
    provided_key_for,
)
from opendeploy_plan.analyze.model import (
    Analysis,
    DependencyAnalysis,
    EnvVar,
    Fact,
    ServiceAnalysis,
)

__all__ = ["attach_dependencies", "dependency_reference"]


def attach_dependencies(
    analysis: Analysis, compose_deps: list[tuple[str, DependencyAnalysis]]
) -> None:
    """Decide `dependencies:` and each service's `uses:` (analyze-local.md §4)."""
    dependencies = [dep for _name, dep in compose_deps]
    compose_names = dict(compose_deps)
    by_type: dict[str, DependencyAnalysis] = {}
    for dep in dependencies:
        by_type.setdefault(dep.type, dep)
    names = {d.name for d in dependencies} | {s.name for s in analysis.services}

    def ensure(db_type: str, evidence: Fact) -> DependencyAnalysis:
        if db_type in by_type:
            return by_type[db_type]
        name = db_type if db_type not in names else f"{db_type}-db"
        dep = DependencyAnalysis(name, db_type, evidence)
        names.add(name)
        dependencies.append(dep)
        by_type[db_type] = dep
        return dep

    for service in analysis.services:
        uses: list[str] = []
        if service.compose_service is not None:
            for other in service.compose_depends_on:
                provided = compose_names.get(other)
                if provided and provided.name not in uses:
                    uses.append(provided.name)
                    service.uses_reasons[provided.name] = f"compose depends_on {other}"
        for fact in service.databases:
            dep = ensure(fact.value, fact)
            if dep.name not in uses:
                uses.append(dep.name)
                service.uses_reasons[dep.name] = f"{fact.file} {fact.reason}"
        for var in service.env:
            if var.name == "DB_CONNECTION" and (var.default or "").lower() in CONNECTION_VALUES:
                engine_type = CONNECTION_VALUES[(var.default or "").lower()]
                dep = ensure(engine_type, Fact(engine_type, var.sources[0], "DB_CONNECTION"))
                if dep.name not in uses:
                    uses.append(dep.name)
                    service.uses_reasons[dep.name] = f"{var.sources[0]} DB_CONNECTION"
                continue
            signals, db_type = database_type_from_name(var.name)
            if not signals:
                continue
            if db_type is None:
                if not uses and var.name == "DATABASE_URL" and not by_type:
                    service.notes.append(
                        f"{var.name} is read ({var.sources[0]}) but the database type could "
                        "not be told; add a `dependencies:` entry yourself"
                    )
                continue
            dep = ensure(db_type, Fact(db_type, var.sources[0], f"reads {var.name}", "medium"))
            if dep.name not in uses:
                uses.append(dep.name)
                service.uses_reasons[dep.name] = f"{var.sources[0]} reads {var.name}"
        service.uses = uses
    if len(analysis.services) == 1 and analysis.services[0].kind != "static":
        # analyze-local.md §4: a compose database is a dependency even without depends_on;
        # with one service to run, that service is the one that needs it.
        only = analysis.services[0]
        for dep in dependencies:
            if dep.compose_name is not None and dep.name not in only.uses:
                only.uses.append(dep.name)
                only.uses_reasons[dep.name] = f"{dep.evidence.file} defines it"
    analysis.dependencies = dependencies


def dependency_reference(
    var: EnvVar, service: ServiceAnalysis, dependencies: list[DependencyAnalysis]
) -> tuple[str, str] | None:
    """(dependency name, key) when a dependency the service uses provides this variable."""
    if var.default is not None:
        # A compose value such as redis://cache:6379/1 points at a compose hostname that does
        # not exist on the platform: use the dependency's own URL instead.
        for dep in dependencies:
            host = re.escape(dep.compose_name or dep.name)
            if dep.name in service.uses and re.search(rf"(@|//){host}(:|/|$)", var.default):
                return dep.name, URL_KEY[dep.type]
    for dep in dependencies:
        if dep.name not in service.uses:
            continue
        key = provided_key_for(var.name, dep.type)
        if key is not None:
            return dep.name, key
    return None
