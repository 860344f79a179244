"""The action graph (`plan.graph.ActionGraph`, over `graphlib`): its order is topological with
the smallest ready key first, its cycle report walks a real loop, and `select` keeps what a
target needs and drops what needs an excluded address."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from opendeploy_plan.plan.graph import ActionGraph, link, select
from opendeploy_plan.plan.model import ActionKind

NAMES = st.sampled_from([f"n{i}" for i in range(8)])


@st.composite
def acyclic(draw: st.DrawFn) -> dict[str, set[str]]:
    """`{node: needs}` where a node only needs nodes drawn before it (so no cycle)."""
    names = draw(st.lists(NAMES, unique=True, min_size=1, max_size=8))
    order = draw(st.permutations(names))
    return {
        node: set(draw(st.lists(st.sampled_from(order[:i]), max_size=3))) if i else set()
        for i, node in enumerate(order)
    }


@settings(max_examples=200, deadline=None)
@given(acyclic(), st.data())
def test_order_is_topological_and_takes_the_smallest_ready_key(
    wants: dict[str, set[str]], data: st.DataObject
) -> None:
    graph, cycle = link(wants)
    assert cycle is None
    ranked = data.draw(st.permutations(sorted(wants)))
    weight = {node: f"{i:02d}" for i, node in enumerate(ranked)}
    order = graph.ordered(key=weight.__getitem__)
    assert sorted(order) == sorted(wants)
    done: set[str] = set()
    for node in order:
        assert wants[node] <= done  # everything it needs came first
        ready = {n for n in wants if n not in done and wants[n] <= done}
        assert node == min(ready, key=weight.__getitem__)  # and among the ready, the smallest
        done.add(node)


def test_reads_match_the_edges() -> None:
    graph, _ = link({"a": set(), "b": {"a"}, "c": {"a", "b"}, "d": {"c", "missing"}})
    assert graph.nodes == ("a", "b", "c", "d")
    assert set(graph.edges) == {("a", "b"), ("a", "c"), ("b", "c"), ("c", "d")}
    assert set(graph.predecessors("c")) == {"a", "b"}
    assert set(graph.successors("a")) == {"b", "c"}
    assert graph.ancestors("d") == {"a", "b", "c"}
    assert graph.descendants("b") == {"c", "d"}
    sub = graph.subgraph({"a", "c", "d"})
    assert sub.nodes == ("a", "c", "d") and set(sub.edges) == {("a", "c"), ("c", "d")}


@given(st.integers(min_value=2, max_value=6), st.integers(min_value=0, max_value=5))
def test_a_cycle_comes_back_as_the_loop_in_edge_order(size: int, offset: int) -> None:
    loop = [f"s{i}" for i in range(size)]
    wants: dict[str, set[str]] = {node: {loop[i - 1]} for i, node in enumerate(loop)}
    wants["free"] = {loop[offset % size]}
    graph, cycle = link(wants)
    assert cycle is not None and sorted(cycle) == sorted(loop)
    for i, node in enumerate(cycle):  # each one is needed by the next, around the loop
        assert node in wants[cycle[(i + 1) % len(cycle)]]
    assert graph.edges == () and set(graph.nodes) == set(wants)


def test_select_keeps_needs_of_targets_and_drops_needers_of_excludes() -> None:
    wants = {
        "project": set(),
        "service.a": {"project"},
        "service.b": {"project"},
        "service.b.deployment": {"service.b"},
    }
    graph, _ = link(wants)
    kinds = dict.fromkeys(wants, ActionKind.CREATE)
    targeted = select(graph, kinds, ("service.b.deployment",), ())
    assert set(targeted.graph.nodes) == {"project", "service.b", "service.b.deployment"}
    assert targeted.skipped == ("service.a",)
    excluded = select(graph, kinds, (), ("service.b",))
    assert set(excluded.graph.nodes) == {"project", "service.a"}
    assert isinstance(excluded.graph, ActionGraph)
