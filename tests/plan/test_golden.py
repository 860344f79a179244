"""Golden planner cases: each file under cases/ is one specification of the planner's output."""

from __future__ import annotations

from typing import Any

import pytest

from opendeploy_plan.plan import make_plan, plan_json
from opendeploy_plan.plan.document import encode_value
from opendeploy_plan.render import render_dot, render_human, render_markdown, render_mermaid
from tests.plan.golden import GoldenCase, case_paths, load_case, secret_values

CASES = [load_case(p) for p in case_paths()]


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case: GoldenCase) -> None:
    plan = make_plan(case.desired, case.observed, case.options)
    raw: dict[str, Any] = case.raw

    expected = raw["expected_actions"]
    if expected is not None:
        actual_pairs = sorted((a.address, a.kind.value) for a in plan.actions)
        expected_pairs = sorted((e["address"], e["action"]) for e in expected)
        assert actual_pairs == expected_pairs, case.description
        for want in expected:
            action = plan.action(want["address"])
            assert action is not None
            if "reason" in want:
                assert action.reason.value == want["reason"], want["address"]
            if "depends_on" in want:
                assert sorted(action.depends_on) == sorted(want["depends_on"]), want["address"]
            if "changes" in want:
                got = {c.path: c.kind.value for c in action.changes}
                assert got == want["changes"], want["address"]
            if "waits_for_deployment" in want:
                assert action.waits_for_deployment == want["waits_for_deployment"]

    if "expected_diagnostics" in raw:
        wanted = raw["expected_diagnostics"]
        assert len(plan.diagnostics) == len(wanted), [d.summary for d in plan.diagnostics]
        for want in wanted:
            assert any(
                d.severity == want["severity"]
                and d.path == want["address"]
                and want["summary_contains"] in d.summary
                for d in plan.diagnostics
            ), (want, [(d.severity, d.path, d.summary) for d in plan.diagnostics])
    else:
        assert not plan.errors, [d.summary for d in plan.errors]

    for want in raw.get("expected_notes", []):
        assert any(
            n.address == want["address"] and want["contains"] in n.message for n in plan.notes
        ), plan.notes
    if "expected_unmanaged" in raw:
        assert list(plan.unmanaged) == raw["expected_unmanaged"]
    if "expected_drift" in raw:
        got_drift = [{"address": a.address, "action": a.kind.value} for a in plan.drift]
        assert got_drift == raw["expected_drift"]
    for address, paths in raw.get("expected_values", {}).items():
        action = plan.action(address)
        assert action is not None, address
        by_path = {c.path: [encode_value(c.before), encode_value(c.after)] for c in action.changes}
        for path, pair in paths.items():
            assert by_path[path] == pair, (address, path)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_plan_order_respects_every_edge(case: GoldenCase) -> None:
    plan = make_plan(case.desired, case.observed, case.options)
    position = {a.address: i for i, a in enumerate(plan.actions)}
    for action in plan.actions:
        for need in action.depends_on:
            assert position[need] < position[action.address]
    assert set(plan.graph.nodes) == set(position)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_no_view_of_any_case_shows_a_secret(case: GoldenCase) -> None:
    plan = make_plan(case.desired, case.observed, case.options)
    outputs = [
        render_human(plan),
        render_human(plan, color=True),
        plan_json(plan),
        render_markdown(plan),
        render_dot(plan),
        render_mermaid(plan),
    ]
    for secret in secret_values(case):
        for output in outputs:
            assert secret not in output


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_planning_is_deterministic(case: GoldenCase) -> None:
    first = make_plan(case.desired, case.observed, case.options)
    second = make_plan(case.desired, case.observed, case.options)
    assert plan_json(first) == plan_json(second)
