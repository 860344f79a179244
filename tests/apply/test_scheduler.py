"""The DAG scheduler: order, parallelism bound, upstream-failed skipping, interrupts."""

from __future__ import annotations

import asyncio

import pytest

from opendeploy_plan.apply.scheduler import (
    CycleError,
    Interrupt,
    StepOutcome,
    StepResult,
    check_acyclic,
    run_graph,
)

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[StepResult] = []

    def step_started(self, name: str) -> None:
        self.started.append(name)

    def step_finished(self, result: StepResult) -> None:
        self.finished.append(result)


async def test_steps_run_after_what_they_need() -> None:
    needs = {"project": [], "db": ["project"], "web": ["project", "db"], "deploy": ["web"]}
    order: list[str] = []

    async def step(name: str) -> None:
        await asyncio.sleep(0)
        order.append(name)

    report = await run_graph(needs, step)
    assert report.ok
    assert order == ["project", "db", "web", "deploy"]


async def test_parallelism_is_bounded_and_used() -> None:
    needs: dict[str, list[str]] = {f"s{i}": [] for i in range(12)}
    in_flight = 0
    peak = 0

    async def step(name: str) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1

    report = await run_graph(needs, step, parallelism=4)
    assert report.ok
    assert peak == 4


async def test_failure_skips_dependents_and_independent_branches_finish() -> None:
    needs = {
        "project": [],
        "a": ["project"],
        "a.deploy": ["a"],
        "a.domain": ["a.deploy"],
        "b": ["project"],
        "b.deploy": ["b"],
    }
    hooks = Recorder()

    async def step(name: str) -> None:
        if name == "a":
            raise RuntimeError("boom")

    report = await run_graph(needs, step, hooks=hooks)
    assert not report.ok
    assert report.names(StepOutcome.FAILED) == ["a"]
    assert sorted(report.names(StepOutcome.SKIPPED)) == ["a.deploy", "a.domain"]
    assert sorted(report.names(StepOutcome.SUCCEEDED)) == ["b", "b.deploy", "project"]
    skipped = {r.name: r.reason for r in report.results if r.outcome is StepOutcome.SKIPPED}
    assert skipped["a.domain"] == "upstream a"
    failed = next(r for r in report.results if r.outcome is StepOutcome.FAILED)
    assert isinstance(failed.error, RuntimeError)
    assert [r.name for r in hooks.finished] == [r.name for r in report.results]


async def test_first_interrupt_drains_running_steps() -> None:
    interrupt = Interrupt()
    needs = {"a-slow": [], "b-after": ["a-slow"], "c-other": []}
    finished: list[str] = []

    async def step(name: str) -> None:
        if name == "a-slow":
            interrupt.request()
            await asyncio.sleep(0.02)
        finished.append(name)

    report = await run_graph(needs, step, parallelism=1, interrupt=interrupt)
    assert report.interrupted and not report.ok
    assert finished == ["a-slow"]
    assert report.names(StepOutcome.SUCCEEDED) == ["a-slow"]
    assert sorted(report.names(StepOutcome.NOT_STARTED)) == ["b-after", "c-other"]


async def test_second_interrupt_aborts_running_steps() -> None:
    interrupt = Interrupt()
    needs: dict[str, list[str]] = {"forever": []}

    async def step(name: str) -> None:
        interrupt.request()
        interrupt.request()
        await asyncio.sleep(30)

    report = await asyncio.wait_for(run_graph(needs, step, interrupt=interrupt), timeout=5)
    assert report.interrupted
    assert report.results[0].outcome is StepOutcome.FAILED
    assert report.results[0].reason == "aborted"


def test_cycles_are_named() -> None:
    with pytest.raises(
        CycleError, match=r"cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)"
    ):
        check_acyclic({"a": ["b"], "b": ["c"], "c": ["a"]})


def test_unknown_dependency_is_rejected() -> None:
    with pytest.raises(KeyError, match="unknown step 'ghost'"):
        check_acyclic({"a": ["ghost"]})
