"""Apply benchmark: a 10-service project from scratch against the local gateway (real HTTP, real
clock, emulated build times), `odplan apply` run as a child process.

Run: .venv/bin/python benchmarks/apply.py [--services 10] [--pending 0.2] [--build 1.0]
     [--deploy 0.5] [--dependency 0.5] [--skip-sequential]

The manifest has `after:` chains (s01 after s00, s02 after s01, s03 after s02; s05 after s04)
and one PostgreSQL database used by s00, s04 and s06, so the action graph has depth. It prints:

1. apply wall time (process start to exit, planning included) vs the graph's critical path:
   the database's ready time plus the emulated durations (`completed_at - created_at`, read back
   from the gateway) of the deployments along the longest `after:` chain (target <= 1.2x);
   "overhead" is the difference (start-up, refresh, upload, creates, reads-back, polling);
2. the same vs the skill's sequential order (one service after another: the database, then
   every deployment's duration in turn), estimated from the same durations and measured with
   `odplan apply --parallelism 1` on a fresh gateway;
3. the lag between each deployment's terminal state (its `completed_at`) and odplan noticing
   it: the moment its `success` progress line (flushed per line by the apply view) arrives on
   the parent's end of the stderr pipe (target <= 0.5 s);
4. the `GET /v1/deployments/:id` requests per deployment (counted by a wrapper around the
   gateway app), against the documented pace's budget of ceil(duration / 2) + 2.

The machine is shared and noisy: compare ratios within one run, not seconds across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opendeploy_plan.gateway import GatewayClient

PROJECT = "bench"
CHAINS: dict[int, int] = {1: 0, 2: 1, 3: 2, 5: 4}  # service index -> the one it runs after
USES_DB = (0, 4, 6)
_SUCCESS_LINE = re.compile(r"service\.(s\d+)\.deployment: success 100%")


def service_name(index: int) -> str:
    return f"s{index:02d}"


def write_project(root: Path, services: int) -> Path:
    lines = [
        "version: 1",
        "project:",
        f"  name: {PROJECT}",
        "dependencies:",
        "  db:",
        "    type: postgres",
        "services:",
    ]
    for i in range(services):
        name = service_name(i)
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
        (folder / "main.py").write_text(f"print('hello from {name}')\n")
        lines += [
            f"  {name}:",
            "    type: worker",
            f"    source: {name}",
            "    language: python",
            "    dockerfile: Dockerfile",
        ]
        if i in CHAINS:
            lines.append(f"    after: [{service_name(CHAINS[i])}]")
        if i in USES_DB:
            lines.append("    uses: [db]")
    path = root / "opendeploy.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


_DEPLOYMENT_GET = re.compile(r"/api/v1/deployments/([^/]+)")


class CountDeploymentGets:
    """ASGI wrapper around the gateway app: counts `GET /v1/deployments/:id` per deployment."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.gets: Counter[str] = Counter()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET":
            match = _DEPLOYMENT_GET.fullmatch(scope.get("path", ""))
            if match:
                self.gets[match.group(1)] += 1
        await self.app(scope, receive, send)


@contextmanager
def gateway(args: argparse.Namespace) -> Iterator[tuple[str, str, Counter[str]]]:
    from opendeploy_plan.emulator import EmulatorConfig, create_app
    from opendeploy_plan.emulator.server import serve_in_thread

    config = EmulatorConfig(
        db_path=":memory:",
        pending_seconds=args.pending,
        analyze_seconds=args.analyze,
        build_seconds=args.build,
        deploy_seconds=args.deploy,
        dependency_ready_seconds=args.dependency,
        auto_domain_delay_seconds=0.5,
        domain_reconcile_seconds=0.5,
    )
    app = create_app(config)
    counted = CountDeploymentGets(app)
    with serve_in_thread(counted, wait_for_stop=False) as root:
        app.state.emulator.config.public_url = f"{root}/api"
        yield f"{root}/api", app.state.emulator.mint_dashboard_token(), counted.gets


@dataclass
class Run:
    wall: float
    returncode: int
    noticed: dict[str, float]  # service -> wall time its success line arrived
    stderr: str


def run_apply(base_url: str, token: str, manifest: Path, *extra: str) -> Run:
    home = manifest.parent.parent / f"home{len(extra)}"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OD_", "OPDEPLOY_"))}
    env.update(
        HOME=str(home),
        OPDEPLOY_AUTH_FILE=str(home / "auth.json"),
        OPDEPLOY_LOG_DIR=str(home / "logs"),
        OD_API_KEY=token,
        OD_GATEWAY=base_url,
        NO_COLOR="1",
    )
    argv = [sys.executable, "-m", "opendeploy_plan", "apply", "--auto-approve", "-f"]
    argv += [str(manifest), "--gateway", base_url, *extra]
    noticed: dict[str, float] = {}
    lines: list[str] = []
    started = time.time()
    process = subprocess.Popen(
        argv,
        env=env,
        cwd=manifest.parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            now = time.time()
            lines.append(line)
            match = _SUCCESS_LINE.search(line)
            if match:
                noticed.setdefault(match.group(1), now)

    reader = threading.Thread(target=read)
    reader.start()
    code = process.wait(timeout=600)
    wall = time.time() - started
    reader.join()
    return Run(wall, code, noticed, "".join(lines))


@dataclass
class Live:
    durations: dict[str, float]  # service -> its deployment's completed_at - created_at
    completed: dict[str, float]  # service -> completed_at (epoch seconds)
    deployment_ids: dict[str, str]  # service -> its deployment's id


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


async def read_live(base_url: str, token: str) -> Live:
    async with GatewayClient(base_url, token) as client:
        project = await client.find_project_by_name(PROJECT)
        assert project is not None
        names = {s.id: s.name for s in await client.list_services(project.id)}
        durations: dict[str, float] = {}
        completed: dict[str, float] = {}
        ids: dict[str, str] = {}
        for d in await client.list_deployments(project_id=project.id):
            if d.status != "success" or not d.completed_at:
                continue
            name = names[d.service_id]
            completed[name] = _epoch(d.completed_at)
            durations[name] = completed[name] - _epoch(d.created_at)
            ids[name] = d.id
    return Live(durations, completed, ids)


def critical_path(live: Live, services: int, dependency: float) -> tuple[float, list[str]]:
    """The longest chain: the database's ready time (for chains that use it) plus deployments."""

    def chain(i: int) -> list[int]:
        return [*chain(CHAINS[i]), i] if i in CHAINS else [i]

    best = (0.0, [""])
    for i in range(services):
        members = chain(i)
        total = sum(live.durations[service_name(m)] for m in members)
        if any(m in USES_DB for m in members):
            total += dependency
        if total > best[0]:
            best = (total, [service_name(m) for m in members])
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--pending", type=float, default=0.2)
    parser.add_argument("--analyze", type=float, default=0.0)
    parser.add_argument("--build", type=float, default=1.0)
    parser.add_argument("--deploy", type=float, default=0.5)
    parser.add_argument("--dependency", type=float, default=0.5)
    parser.add_argument("--skip-sequential", action="store_true")
    args = parser.parse_args()
    if args.services < 7:
        parser.error("--services must be at least 7 (the chains use s00..s06)")

    with tempfile.TemporaryDirectory(prefix="odplan-bench-") as scratch:
        manifest = write_project(Path(scratch) / "app", args.services)
        with gateway(args) as (base_url, token, gets):
            parallel = run_apply(base_url, token, manifest)
            if parallel.returncode != 0:
                print(parallel.stderr, file=sys.stderr)
                return 1
            live = asyncio.run(read_live(base_url, token))
        sequential: Run | None = None
        if not args.skip_sequential:
            with gateway(args) as (base_url, token, _gets):
                sequential = run_apply(base_url, token, manifest, "--parallelism", "1")

    path, chain = critical_path(live, args.services, args.dependency)
    per_deployment = [gets.get(i, 0) for i in live.deployment_ids.values()] or [0]
    budgets = [math.ceil(d / 2) + 2 for d in live.durations.values()] or [0]
    serial = args.dependency + sum(live.durations.values())
    lags = [
        parallel.noticed[s] - live.completed[s] for s in live.completed if s in parallel.noticed
    ]
    rows: list[tuple[str, str, str]] = [
        (
            "deployments (emulated each, mean)",
            f"{statistics.mean(live.durations.values()):.2f} s",
            "",
        ),
        (f"critical path ({' -> '.join(chain)} + db)", f"{path:.2f} s", "1.00x"),
        (
            "odplan apply (parallelism 10), wall",
            f"{parallel.wall:.2f} s",
            f"{parallel.wall / path:.2f}x",
        ),
        ("  overhead over the critical path", f"{parallel.wall - path:.2f} s", "target <= 1.20x"),
        ("skill's sequential order (estimate)", f"{serial:.2f} s", f"{serial / path:.2f}x"),
    ]
    if sequential is not None:
        rows.append(
            (
                "odplan apply --parallelism 1, wall",
                f"{sequential.wall:.2f} s" + ("" if sequential.returncode == 0 else " (FAILED)"),
                f"{sequential.wall / path:.2f}x",
            )
        )
    rows += [
        ("terminal -> noticed lag, median", f"{statistics.median(lags):.3f} s", ""),
        ("terminal -> noticed lag, max", f"{max(lags):.3f} s", "target <= 0.5 s"),
        (
            "GET /v1/deployments/:id per deployment, mean / max",
            f"{statistics.mean(per_deployment):.1f} / {max(per_deployment)}",
            f"budget mean {statistics.mean(budgets):.1f} (ceil(duration / 2) + 2)",
        ),
    ]
    print(
        f"apply benchmark: {args.services} services, postgres, chains {CHAINS}; phases "
        f"pending {args.pending} s, build {args.build} s, deploy {args.deploy} s, "
        f"database {args.dependency} s"
    )
    print(_table(("measure", "value", "vs critical path"), rows))
    return 0


def _table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    line = "| " + " | ".join("-" * w for w in widths) + " |"
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |", line]
    out += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
