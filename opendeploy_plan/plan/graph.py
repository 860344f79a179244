"""The graph step: link planned actions by what each needs, select `--target`/`--exclude`, and
order them. Pure functions over a `networkx.DiGraph` whose nodes are addresses (edge `a -> b`
when `b` needs `a`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import networkx as nx

from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.model import ActionKind

__all__ = ["Selection", "link", "order", "select", "sort_key"]

_RANK = {"project": 0, "dependency": 1, "service": 2, "env": 3, "source": 4, "deployment": 5}


def sort_key(address: str, kind: ActionKind) -> str:
    """The tie-break among ready actions: by resource rank (project first, deletes last)."""
    if kind is ActionKind.DELETE:
        rank = 7
    elif address == addr.PROJECT:
        rank = _RANK["project"]
    elif address == addr.PROJECT_SOURCE:
        rank = _RANK["source"]
    elif address.startswith("dependency."):
        rank = _RANK["dependency"]
    elif address.endswith(".env"):
        rank = _RANK["env"]
    elif address.endswith(".deployment"):
        rank = _RANK["deployment"]
    elif address.endswith(".domain"):
        rank = 6
    else:
        rank = _RANK["service"]
    return f"{rank}:{address}"


def link(wants: Mapping[str, Iterable[str]]) -> tuple[nx.DiGraph, list[str] | None]:
    """The graph of `{address: addresses it needs}` (needs that are not planned are dropped).

    A cycle (services' `after:` in a loop) comes back as the addresses around it, with a graph
    without edges, so the caller can report it and still order the actions."""
    graph = nx.DiGraph()
    graph.add_nodes_from(wants)
    for address, needs in wants.items():
        for need in needs:
            if need in wants and need != address:
                graph.add_edge(need, address)
    if nx.is_directed_acyclic_graph(graph):
        return graph, None
    cycle = [edge[0] for edge in nx.find_cycle(graph)]
    graph.remove_edges_from(list(graph.edges))
    return graph, cycle


@dataclass(frozen=True)
class Selection:
    """The graph `select` kept, and what it skipped (None when no flag was given)."""

    graph: nx.DiGraph
    skipped: tuple[str, ...] | None


def select(
    graph: nx.DiGraph,
    kinds: Mapping[str, ActionKind],
    target: tuple[str, ...],
    exclude: tuple[str, ...],
) -> Selection:
    """Terraform's `-target`/`-exclude`: keep the targeted actions and all they need; drop the
    excluded ones and all that need them. A source bind left without a deploy is dropped too,
    unless it was targeted itself."""
    keep = set(graph.nodes)
    explicitly_targeted: set[str] = set()
    if target:
        selected = {a for a in keep if any(addr.matches(a, t) for t in target)}
        explicitly_targeted = set(selected)
        for node in list(selected):
            selected |= nx.ancestors(graph, node)
        keep = selected
    if exclude:
        dropped = {a for a in keep if any(addr.matches(a, e) for e in exclude)}
        for node in list(dropped):
            dropped |= nx.descendants(graph, node)
        keep -= dropped
    orphan_bind = addr.PROJECT_SOURCE in keep and not any(
        kinds[a] is ActionKind.DEPLOY for a in graph.successors(addr.PROJECT_SOURCE) if a in keep
    )
    if orphan_bind and addr.PROJECT_SOURCE not in explicitly_targeted:
        keep.discard(addr.PROJECT_SOURCE)
    skipped = tuple(sorted(set(graph.nodes) - keep)) if (target or exclude) else None
    return Selection(graph.subgraph(keep).copy(), skipped)


def order(graph: nx.DiGraph, kinds: Mapping[str, ActionKind]) -> list[str]:
    """A topological order, ties broken by `sort_key`."""
    return list(nx.lexicographical_topological_sort(graph, key=lambda a: sort_key(a, kinds[a])))
