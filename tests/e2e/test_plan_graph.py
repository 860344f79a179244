"""`odplan graph`: the plan's action graph as Graphviz dot or Mermaid, from the same planning
pass as `odplan plan` (same flags, same live refresh)."""

from __future__ import annotations

import re

from opendeploy_plan.cli import COMMANDS
from tests.e2e.conftest import Odplan, assert_no_canary


def graph(odplan: Odplan, *args: str) -> tuple[int, str, str]:
    result = odplan.invoke(
        "graph", "-f", str(odplan.manifest), "--gateway", odplan.gateway.base_url, *args
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


def dot_edges(text: str) -> set[tuple[str, str]]:
    return set(re.findall(r'^\s*"([^"]+)" -> "([^"]+)";$', text, flags=re.M))


def test_graph_is_a_registered_command() -> None:
    assert COMMANDS["graph"].target == "opendeploy_plan.cli.graph:graph"


def test_dot_has_one_node_per_action_and_the_dependency_edges(odplan: Odplan) -> None:
    code, out, err = graph(odplan)

    assert code == 0, err
    assert out.startswith("digraph odplan {") and out.rstrip().endswith("}")
    nodes = set(re.findall(r'^\s*"([^"]+)" \[label=', out, flags=re.M))
    assert nodes == {
        "project",
        "dependency.db",
        "service.api",
        "service.worker",
        "project.source",
        "service.api.deployment",
        "service.worker.deployment",
        "service.api.domain",
    }
    edges = dot_edges(out)
    assert ("project", "service.api") in edges
    assert ("dependency.db", "service.api") in edges
    assert ("project.source", "service.api.deployment") in edges
    # `after: [api]`: the worker deploys once the api's deployment is done.
    assert ("service.api.deployment", "service.worker.deployment") in edges
    assert ("service.api.deployment", "service.api.domain") in edges
    assert_no_canary(out, err, home=odplan.home)


def test_mermaid_is_a_flowchart_with_the_same_shape(odplan: Odplan) -> None:
    _, dot, _ = graph(odplan)
    code, out, err = graph(odplan, "--format", "mermaid")

    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    labels = dict(re.findall(r'^\s*(n\d+)\["[^ ]+ (\S+) \(', out, flags=re.M))
    edges = {
        (labels[a], labels[b]) for a, b in re.findall(r"^\s*(n\d+) --> (n\d+)$", out, flags=re.M)
    }
    assert edges == dot_edges(dot)


def test_planning_flags_shape_the_graph(odplan: Odplan) -> None:
    code, out, err = graph(odplan, "--exclude", "service.worker")

    assert code == 0, err
    assert "service.worker" not in out
    assert '"service.api.deployment"' in out


def test_an_empty_plan_is_an_empty_graph(applied: Odplan) -> None:
    code, out, err = graph(applied)

    assert code == 0, err
    assert "[label=" not in out and "->" not in out
    assert "No changes" in err


def test_a_manifest_error_exits_1_without_a_graph(odplan: Odplan) -> None:
    odplan.manifest.write_text("version: 1\nproject: {}\n")

    code, out, err = graph(odplan)

    assert code == 1
    assert out == ""
    assert "opendeploy.yaml" in err
