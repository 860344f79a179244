"""Planner and view speed on generated projects, in sync and fully changed.

Prints median milliseconds per operation for projects of growing size and the per-service cost,
so the ratio between sizes shows whether planning stays linear. Compare ratios, not seconds.

    .venv/bin/python benchmarks/planner.py [--runs 5] [--env-keys 40]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opendeploy_plan.plan import (
    DesiredDependency,
    DesiredService,
    DesiredSource,
    DesiredState,
    DesiredValue,
    make_plan,
    plan_json,
)
from opendeploy_plan.render import render_human, render_markdown
from opendeploy_plan.state.model import ObservedState
from tests.plan.perfect_apply import observed_after_apply


def _desired(services: int, env_keys: int, digest: str = "sha256:1") -> DesiredState:
    def env(i: int) -> dict[str, DesiredValue]:
        return {
            f"KEY_{j}": DesiredValue.literal(f"v{j}-{i}")
            if j % 2
            else DesiredValue.secret(f"s{j}", f"secret-{j}-{i}")
            for j in range(env_keys)
        }

    return DesiredState(
        project="bench",
        source=DesiredSource(digest=digest),
        dependencies={"db": DesiredDependency(type="postgres")},
        services={
            f"svc{i}": DesiredService(
                port=8000 + i,
                cpu_limit="500m",
                memory_limit="512Mi",
                uses=("db",),
                subdomain=f"bench-svc-{i}",
                source_digest=f"{digest}-{i}",
                env=env(i),
            )
            for i in range(services)
        },
    )


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--env-keys", type=int, default=40)
    args = parser.parse_args()
    header = (
        f"{'services':>8} {'scenario':>10} {'actions':>7} {'plan ms':>8} "
        f"{'ms/svc':>7} {'human ms':>9} {'json ms':>8} {'md ms':>7}"
    )
    print(header)
    print("-" * len(header))
    for size in (10, 50, 200):
        desired = _desired(size, args.env_keys)
        in_sync = observed_after_apply(desired)
        changed = _desired(size, args.env_keys, digest="sha256:2")
        for label, want, live in (
            ("empty", desired, ObservedState.empty()),
            ("in sync", desired, in_sync),
            ("new src", changed, in_sync),
        ):
            plan = make_plan(want, live)
            plan_ms = _median_ms(functools.partial(make_plan, want, live), args.runs)
            human_ms = _median_ms(functools.partial(render_human, plan), args.runs)
            json_ms = _median_ms(functools.partial(plan_json, plan), args.runs)
            md_ms = _median_ms(functools.partial(render_markdown, plan), args.runs)
            print(
                f"{size:>8} {label:>10} {len(plan.actions):>7} {plan_ms:>8.1f} "
                f"{plan_ms / size:>7.2f} {human_ms:>9.1f} {json_ms:>8.1f} {md_ms:>7.1f}"
            )


if __name__ == "__main__":
    main()
