"""The graph step: link planned actions by what each needs, select `--target`/`--exclude`, and
order them. Pure functions over an `ActionGraph` whose nodes are addresses (edge `a -> b` when
`b` needs `a`).

The graph is our own small class over the standard library's `graphlib` (ordering, cycle
detection) rather than a networkx `DiGraph`: a plan has tens of actions, and importing
networkx cost every `odplan plan`/`apply` ~0.2 s of CPU before its first request (issue 13's
benchmark). It offers the few `DiGraph` reads callers use (`nodes`, `edges`, `predecessors`,
`successors`) with the same meaning.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.model import ActionKind

__all__ = ["ActionGraph", "Selection", "link", "order", "select", "sort_key"]

_RANK = {"project": 0, "dependency": 1, "service": 2, "env": 3, "source": 4, "deployment": 5}


class ActionGraph:
    """A directed graph of addresses: edge `a -> b` when `b` needs `a`. Nodes and each node's
    neighbours keep their insertion order, so every walk over it is deterministic."""

    def __init__(self) -> None:
        self._needs: dict[str, dict[str, None]] = {}  # node -> the nodes it needs
        self._needed_by: dict[str, dict[str, None]] = {}  # node -> the nodes that need it

    def add_node(self, node: str) -> None:
        self._needs.setdefault(node, {})
        self._needed_by.setdefault(node, {})

    def add_nodes_from(self, nodes: Iterable[str]) -> None:
        for node in nodes:
            self.add_node(node)

    def add_edge(self, need: str, needer: str) -> None:
        """`needer` needs `need` (both become nodes if they were not)."""
        self.add_node(need)
        self.add_node(needer)
        self._needs[needer][need] = None
        self._needed_by[need][needer] = None

    def add_edges_from(self, edges: Iterable[tuple[str, str]]) -> None:
        for need, needer in edges:
            self.add_edge(need, needer)

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(self._needs)

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """`(need, needer)` pairs, grouped by `need` in node order."""
        return tuple((a, b) for a, needers in self._needed_by.items() for b in needers)

    def __contains__(self, node: object) -> bool:
        return node in self._needs

    def __len__(self) -> int:
        return len(self._needs)

    def predecessors(self, node: str) -> tuple[str, ...]:
        """What `node` needs directly."""
        return tuple(self._needs[node])

    def successors(self, node: str) -> tuple[str, ...]:
        """What needs `node` directly."""
        return tuple(self._needed_by[node])

    def ancestors(self, node: str) -> set[str]:
        """Everything `node` needs, directly or not."""
        return _reach(node, self._needs)

    def descendants(self, node: str) -> set[str]:
        """Everything that needs `node`, directly or not."""
        return _reach(node, self._needed_by)

    def subgraph(self, keep: Iterable[str]) -> ActionGraph:
        """A new graph of the nodes in `keep` and the edges among them (node order kept)."""
        kept = set(keep)
        graph = ActionGraph()
        graph.add_nodes_from(n for n in self._needs if n in kept)
        graph.add_edges_from((a, b) for a, b in self.edges if a in kept and b in kept)
        return graph

    def find_cycle(self) -> list[str] | None:
        """The nodes around one cycle, each needed by the next (None when there is none)."""
        try:
            TopologicalSorter(self._needs).prepare()
        except CycleError as error:
            cycle: list[str] = error.args[1]
            return cycle[:-1]  # graphlib closes the loop by repeating the first node
        return None

    def ordered(self, key: Callable[[str], str]) -> list[str]:
        """A topological order (needs first); among the nodes ready at once, the smallest `key`
        first. Raises `graphlib.CycleError` on a cycle."""
        sorter = TopologicalSorter(self._needs)
        sorter.prepare()
        ready = [(key(node), node) for node in sorter.get_ready()]
        heapq.heapify(ready)
        result: list[str] = []
        while ready:
            _, node = heapq.heappop(ready)
            result.append(node)
            sorter.done(node)
            for after in sorter.get_ready():
                heapq.heappush(ready, (key(after), after))
        return result


def _reach(start: str, neighbours: Mapping[str, Mapping[str, None]]) -> set[str]:
    seen: set[str] = set()
    todo = list(neighbours[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(neighbours[node])
    return seen


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


def link(wants: Mapping[str, Iterable[str]]) -> tuple[ActionGraph, list[str] | None]:
    """The graph of `{address: addresses it needs}` (needs that are not planned are dropped).

    A cycle (services' `after:` in a loop) comes back as the addresses around it, with a graph
    without edges, so the caller can report it and still order the actions."""
    graph = ActionGraph()
    graph.add_nodes_from(wants)
    for address, needs in wants.items():
        for need in needs:
            if need in wants and need != address:
                graph.add_edge(need, address)
    cycle = graph.find_cycle()
    if cycle is None:
        return graph, None
    bare = ActionGraph()
    bare.add_nodes_from(graph.nodes)
    return bare, cycle


@dataclass(frozen=True)
class Selection:
    """The graph `select` kept, and what it skipped (None when no flag was given)."""

    graph: ActionGraph
    skipped: tuple[str, ...] | None


def select(
    graph: ActionGraph,
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
            selected |= graph.ancestors(node)
        keep = selected
    if exclude:
        dropped = {a for a in keep if any(addr.matches(a, e) for e in exclude)}
        for node in list(dropped):
            dropped |= graph.descendants(node)
        keep -= dropped
    orphan_bind = addr.PROJECT_SOURCE in keep and not any(
        kinds[a] is ActionKind.DEPLOY for a in graph.successors(addr.PROJECT_SOURCE) if a in keep
    )
    if orphan_bind and addr.PROJECT_SOURCE not in explicitly_targeted:
        keep.discard(addr.PROJECT_SOURCE)
    skipped = tuple(sorted(set(graph.nodes) - keep)) if (target or exclude) else None
    return Selection(graph.subgraph(keep), skipped)


def order(graph: ActionGraph, kinds: Mapping[str, ActionKind]) -> list[str]:
    """A topological order, ties broken by `sort_key`."""
    return graph.ordered(key=lambda a: sort_key(a, kinds[a]))
