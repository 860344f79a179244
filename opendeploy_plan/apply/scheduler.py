"""Run a dependency graph of async steps with bounded parallelism.

The scheduler knows nothing about opendeploy: it walks a DAG of named steps, starts each one as
soon as everything it needs has succeeded, never runs more than `parallelism` at once, skips the
dependents of a failed step ("upstream failed", as Terraform's dag walker does) while independent
branches finish, and on a first interrupt stops starting new steps but lets running ones finish.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from opendeploy_plan.errors import OdplanError


class StepOutcome(enum.Enum):
    """How one step ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # a step it needs failed or was skipped
    NOT_STARTED = "not_started"  # the run was interrupted before it could start


@dataclass(frozen=True)
class StepResult:
    """The outcome of one step; `error` is set for FAILED, `reason` for SKIPPED/NOT_STARTED."""

    name: str
    outcome: StepOutcome
    error: BaseException | None = None
    reason: str = ""


@dataclass
class RunReport:
    """Every step's result, in the order the steps ended (unreached steps last)."""

    results: list[StepResult] = field(default_factory=list)
    interrupted: bool = False

    def names(self, outcome: StepOutcome) -> list[str]:
        return [r.name for r in self.results if r.outcome is outcome]

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(
            r.outcome is StepOutcome.SUCCEEDED for r in self.results
        )


class SchedulerHooks(Protocol):
    """The one seam to the outside: views implement these to show progress."""

    def step_started(self, name: str) -> None: ...

    def step_finished(self, result: StepResult) -> None: ...


class _NoHooks:
    def step_started(self, name: str) -> None:
        return None

    def step_finished(self, result: StepResult) -> None:
        return None


class CycleError(OdplanError, ValueError):
    """The step graph has a cycle, so no order can satisfy it."""


def check_acyclic(needs: Mapping[str, Collection[str]]) -> None:
    """Raise CycleError naming a cycle, or KeyError for a dependency on an unknown step."""
    for name, deps in needs.items():
        for dep in deps:
            if dep not in needs:
                raise KeyError(f"step {name!r} needs unknown step {dep!r}")
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for root in needs:
        if state.get(root):
            continue
        stack: list[tuple[str, list[str]]] = [(root, sorted(needs[root]))]
        state[root] = 1
        path = [root]
        while stack:
            node, pending = stack[-1]
            if not pending:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            nxt = pending.pop()
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                raise CycleError("cycle: " + " -> ".join(cycle))
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(needs[nxt])))


class Interrupt:
    """A two-stage stop signal: the first `request()` drains, the second aborts.

    Installed as the SIGINT handler by the CLI; tests call `request()` directly.
    """

    def __init__(self) -> None:
        self.draining = asyncio.Event()
        self.aborting = asyncio.Event()

    def request(self) -> None:
        if self.draining.is_set():
            self.aborting.set()
        self.draining.set()


async def run_graph(
    needs: Mapping[str, Collection[str]],
    run_step: Callable[[str], Awaitable[None]],
    *,
    parallelism: int = 10,
    hooks: SchedulerHooks | None = None,
    interrupt: Interrupt | None = None,
) -> RunReport:
    """Run every step in `needs` (step name -> names it needs) through `run_step`.

    A step whose `run_step` raises is FAILED; its transitive dependents are SKIPPED. After a
    first interrupt no new step starts (they end NOT_STARTED) and running steps finish; after a
    second, running steps are cancelled and reported FAILED with the cancellation.
    """
    if parallelism < 1:
        raise ValueError("parallelism must be at least 1")
    check_acyclic(needs)
    hooks = hooks or _NoHooks()
    interrupt = interrupt or Interrupt()
    report = RunReport()
    outcome: dict[str, StepOutcome] = {}
    waiting_on = {name: set(deps) for name, deps in needs.items()}
    dependents: dict[str, set[str]] = {name: set() for name in needs}
    for name, deps in needs.items():
        for dep in deps:
            dependents[dep].add(name)
    ready = sorted(name for name, deps in waiting_on.items() if not deps)
    running: dict[asyncio.Future[Any], str] = {}

    def record(result: StepResult) -> None:
        outcome[result.name] = result.outcome
        report.results.append(result)
        hooks.step_finished(result)

    def skip_dependents(failed: str) -> None:
        stack = [failed]
        while stack:
            for child in sorted(dependents[stack.pop()]):
                if child not in outcome:
                    record(StepResult(child, StepOutcome.SKIPPED, reason=f"upstream {failed}"))
                    stack.append(child)

    async def started(name: str) -> None:
        hooks.step_started(name)
        await run_step(name)

    abort_wait: asyncio.Future[Any] = asyncio.ensure_future(interrupt.aborting.wait())
    try:
        while ready or running:
            if not interrupt.draining.is_set():
                while ready and len(running) < parallelism:
                    name = ready.pop(0)
                    running[asyncio.ensure_future(started(name))] = name
            if not running:
                break
            done, _ = await asyncio.wait(
                [*running, abort_wait], return_when=asyncio.FIRST_COMPLETED
            )
            if abort_wait in done:
                for task in running:
                    task.cancel()
                await asyncio.gather(*running, return_exceptions=True)
                for name in sorted(running.values()):
                    record(
                        StepResult(name, StepOutcome.FAILED, asyncio.CancelledError(), "aborted")
                    )
                running.clear()
                break
            for task in done:
                name = running.pop(task)
                error = task.exception() if not task.cancelled() else asyncio.CancelledError()
                if error is None:
                    record(StepResult(name, StepOutcome.SUCCEEDED))
                    for child in sorted(dependents[name]):
                        waiting_on[child].discard(name)
                        if not waiting_on[child] and child not in outcome:
                            ready.append(child)
                else:
                    record(StepResult(name, StepOutcome.FAILED, error))
                    skip_dependents(name)
    finally:
        abort_wait.cancel()
    report.interrupted = interrupt.draining.is_set()
    for name in needs:
        if name not in outcome:
            record(StepResult(name, StepOutcome.NOT_STARTED, reason="interrupted"))
    return report
