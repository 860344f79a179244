"""`odplan plan` over real HTTP at injected latency: ours vs the lower bound vs one-at-a-time reads.

Builds a 20-service project on a local gateway (`odplan gateway serve`: uvicorn on 127.0.0.1, in
its own process) through the public API without latency, then adds 50 ms to every /api request
(the emulator's admin fault API) and measures:

* the plan wall time (load, resolve, refresh, plan: the engine `odplan plan` runs), in-process;
* the lower bound for the reads refresh makes: each level of dependent reads (project list;
  services + dependency status; per-service env, domains, deployments) costs
  ⌈requests in the level ÷ concurrency cap⌉ round trips; a round trip is the mean time of one
  of these reads made alone;
* the same reads made one after another, as the skill does: on one connection, and as one
  `curl` process per request (the skill's shell snippets);
* the request count (from the emulator's admin API), against the budget 3 + 4 per service.

Compare ratios inside one run, not seconds (the machine is shared):

    .venv/bin/python benchmarks/plan.py [--services 20] [--latency-ms 50] [--runs 3]
                                        [--concurrency 10 20] [--no-curl]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from opendeploy_plan.engine.prepare import Prepared, load, prepare
from opendeploy_plan.gateway import GatewayClient
from opendeploy_plan.plan import PlanOptions, new_salt
from opendeploy_plan.state.refresh import refresh
from tests.e2e.conftest import apply_by_hand

PROJECT = "bench-plan"
SECRET_ENV = {"BENCH_API_TOKEN": "bench-secret-value"}


def write_project(root: Path, services: int) -> Path:
    """`services` web services, each in its own folder, sharing one PostgreSQL database."""
    blocks = []
    for i in range(services):
        folder = root / f"svc{i:02d}"
        folder.mkdir(parents=True)
        (folder / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
        (folder / "main.py").write_text(f"print('service {i}')\n")
        blocks.append(
            textwrap.dedent(
                f"""\
                  svc{i:02d}:
                    type: web
                    source: svc{i:02d}
                    language: python
                    port: {8000 + i}
                    dockerfile: Dockerfile
                    resources:
                      cpu: {{request: 250m, limit: 500m}}
                      memory: {{request: 256Mi, limit: 512Mi}}
                    uses: [db]
                    env:
                      API_TOKEN: ${{{{ secrets.BENCH_API_TOKEN }}}}
                      LOG_LEVEL: info
                      WORKERS: {i % 4 + 1}
                    subdomain: bench-plan-svc{i:02d}
                """
            )
        )
    manifest = root / "opendeploy.yaml"
    manifest.write_text(
        f"version: 1\nproject:\n  name: {PROJECT}\n"
        "dependencies:\n  db:\n    type: postgres\n"
        "services:\n" + "".join(textwrap.indent(b, "  ") for b in blocks)
    )
    return manifest


@dataclass
class Run:
    wall_ms: float
    requests: int


class Bench:
    def __init__(self, root_url: str, token: str, manifest: Path, admin_token: str = "") -> None:
        self.root_url = root_url
        self.base_url = f"{root_url}/api"
        self.token = token
        self.manifest = manifest
        self.admin = httpx.Client(
            base_url=f"{root_url}/_emulator", headers={"Authorization": f"Bearer {admin_token}"}
        )

    def reset_counts(self) -> None:
        self.admin.delete("/requests").raise_for_status()

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self.admin.get("/requests").json()["counts"]
        return counts

    def set_latency(self, ms: int) -> None:
        self.admin.delete("/faults").raise_for_status()
        if ms:
            rule = {"kind": "latency", "route": "/api/*", "latency_ms": ms}
            self.admin.post("/faults", json=rule).raise_for_status()

    async def plan_in_process(self, cap: int) -> tuple[Prepared, float]:
        """What `odplan plan` does between parsing flags and printing: load → resolve →
        refresh → plan, on a client with `cap` requests in flight."""
        start = time.perf_counter()
        async with GatewayClient(self.base_url, self.token, max_in_flight=cap) as client:
            prepared = await prepare(
                client,
                load(self.manifest, None),
                PlanOptions(salt=new_salt()),
                process_env={**os.environ, **SECRET_ENV},
                reuse_listings=True,  # as `odplan plan` does
            )
        return prepared, (time.perf_counter() - start) * 1000

    async def refresh_only(self, cap: int) -> float:
        """Just the reads (refresh), for comparing with the bound without local work."""
        start = time.perf_counter()
        async with GatewayClient(self.base_url, self.token, max_in_flight=cap) as client:
            await refresh(client, PROJECT, "production")
        return (time.perf_counter() - start) * 1000

    async def sequential_reads(self) -> float:
        """The refresh's reads, one at a time (a client that allows one request in flight)."""
        start = time.perf_counter()
        async with GatewayClient(self.base_url, self.token, max_in_flight=1) as client:
            await refresh(client, PROJECT, "production")
        return (time.perf_counter() - start) * 1000

    def read_urls(self) -> list[str]:
        """The URLs refresh reads, in its order (for the curl run)."""
        with httpx.Client(
            base_url=self.base_url + "/", headers={"Authorization": f"Bearer {self.token}"}
        ) as http:
            projects = http.get("v1/projects/").json()["data"]
            project_id = next(p["id"] for p in projects if p["name"] == PROJECT)
            services = http.get(f"v1/projects/{project_id}/services/").json()["data"]
        urls = [
            f"{self.base_url}/v1/projects/",
            f"{self.base_url}/v1/projects/{project_id}/services/",
            f"{self.base_url}/v1/dependencies/status/{project_id}",
        ]
        for service in services:
            sid = service["id"]
            urls += [
                f"{self.base_url}/v1/projects/{project_id}/services/{sid}/env",
                f"{self.base_url}/v1/service-domains/?service_id={sid}"
                "&environment=production&type=auto",
                f"{self.base_url}/v1/deployments/?project_id={project_id}&service_id={sid}",
            ]
        return urls

    def curl_reads(self, urls: list[str]) -> float:
        """One `curl -fsSL` process per read, one after another: the skill's way."""
        auth = f"Authorization: Bearer {self.token}"
        start = time.perf_counter()
        for url in urls:
            subprocess.run(
                ["curl", "-fsSL", "-H", auth, "-o", os.devnull, url], check=True, timeout=30
            )
        return (time.perf_counter() - start) * 1000

    def cli_plan(self, env: Mapping[str, str]) -> float:
        """`odplan plan` as a real process (interpreter start-up included)."""
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "opendeploy_plan", "plan", "-f", str(self.manifest),
             "--gateway", self.base_url, "--detailed-exitcode"],
            env={**env, **SECRET_ENV, "OD_API_KEY": self.token},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        elapsed = (time.perf_counter() - start) * 1000
        if result.returncode != 0:
            raise SystemExit(f"odplan plan exited {result.returncode}:\n{result.stderr}")
        return elapsed


def round_trips(services: int, cap: int) -> int:
    levels = (1, 2, 3 * services)
    return sum(math.ceil(n / cap) for n in levels)


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[GatewayClient("http://127.0.0.1/api").max_in_flight],
        help="in-flight caps to measure (default: the client's default)",
    )
    parser.add_argument("--no-curl", action="store_true", help="skip the curl-per-read run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="odplan-bench-") as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "HOME": str(work / "home"),
            "OPDEPLOY_LOG_DIR": str(work / "logs"),
            "OPDEPLOY_AUTH_FILE": str(work / "home" / "auth.json"),
        }
        os.environ.update({k: env[k] for k in ("HOME", "OPDEPLOY_LOG_DIR", "OPDEPLOY_AUTH_FILE")})
        manifest = write_project(work / "app", args.services)
        with gateway_process(env, work) as (root, token, admin_token):
            bench = Bench(root, token, manifest, admin_token)
            build_start = time.perf_counter()
            asyncio.run(_build(bench, work))
            build_s = time.perf_counter() - build_start
            report(bench, args, env, build_s)


@contextmanager
def gateway_process(env: Mapping[str, str], work: Path) -> Iterator[tuple[str, str, str]]:
    """`odplan gateway serve` in its own process (as a real gateway would be: the client under
    test does not share an interpreter with it); yields its root URL and a dashboard token."""
    log = work / "gateway.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "opendeploy_plan", "gateway", "serve",
             "--port", "0", "--db", ":memory:", "--seed", "1"],
            stdout=sink, stderr=subprocess.STDOUT, env=dict(env),
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while not (found := _announced(log.read_text())):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the local gateway did not start:\n{log.read_text()}")
                time.sleep(0.05)
            yield found
        finally:
            process.terminate()
            process.wait(timeout=10)


def _announced(text: str) -> tuple[str, str, str] | None:
    url = re.search(r"gateway: (http://\S+)/api$", text, flags=re.M)
    token = re.search(r"dashboard token: (\S+)$", text, flags=re.M)
    admin = re.search(r"admin token: (\S+)$", text, flags=re.M)
    return (url.group(1), token.group(1), admin.group(1)) if url and token and admin else None


async def _build(bench: Bench, work: Path) -> None:
    def advance(seconds: float) -> None:
        bench.admin.post("/clock/advance", json={"seconds": seconds}).raise_for_status()

    async with GatewayClient(bench.base_url, bench.token) as client:
        await apply_by_hand(
            client,
            bench.manifest,
            {**os.environ, **SECRET_ENV},
            advance,
            work_dir=work,
            run_id="bench",
        )


def report(bench: Bench, args: Any, env: Mapping[str, str], build_s: float) -> None:
    services, latency = args.services, args.latency_ms
    prepared, _ = asyncio.run(bench.plan_in_process(10))
    assert prepared.plan is not None, [d.format_long() for d in prepared.diagnostics]
    assert not prepared.plan.actions, "the built project should be in sync with the manifest"
    bench.reset_counts()
    # Without latency, a read's round trip is the gateway's own work: it caps how fast many
    # concurrent reads can be answered on this machine, whatever the client does.
    unloaded = asyncio.run(bench.sequential_reads()) / sum(bench.counts().values())
    bench.set_latency(latency)

    rows: list[tuple[str, int | str, int | str, float]] = []
    results: dict[int, tuple[float, int]] = {}
    refreshes: dict[int, float] = {}
    for cap in args.concurrency:
        runs: list[Run] = []
        for _ in range(args.runs):
            bench.reset_counts()
            prepared, wall = asyncio.run(bench.plan_in_process(cap))
            assert prepared.plan is not None and not prepared.plan.actions
            runs.append(Run(wall, sum(bench.counts().values())))
        results[cap] = (median([r.wall_ms for r in runs]), runs[0].requests)
        refreshes[cap] = median([asyncio.run(bench.refresh_only(cap)) for _ in range(args.runs)])

    bench.reset_counts()
    sequential = asyncio.run(bench.sequential_reads())
    reads = sum(bench.counts().values())
    mean_rt = sequential / reads

    curl_ms: float | None = None
    if not args.no_curl and shutil.which("curl"):
        urls = bench.read_urls()
        bench.reset_counts()
        curl_ms = bench.curl_reads(urls)
        assert sum(bench.counts().values()) == reads == len(urls), "curl must replay refresh"

    bench.reset_counts()
    cli_ms = bench.cli_plan(env)
    cli_requests = sum(bench.counts().values())

    for cap, (wall, requests) in results.items():
        trips = round_trips(services, cap)
        rows.append((f"lower bound, cap {cap}", reads, trips, trips * mean_rt))
        rows.append((f"refresh only, cap {cap}", requests, "", refreshes[cap]))
        rows.append((f"odplan plan in-process, cap {cap}", requests, "", wall))
    rows.append(("odplan plan CLI process (cap default)", cli_requests, "", cli_ms))
    rows.append(("same reads one after another", reads, reads, sequential))
    if curl_ms is not None:
        rows.append(("same reads, one curl each (the skill)", reads, reads, curl_ms))

    print(
        f"odplan plan: {services} services, {latency} ms injected latency, median of "
        f"{args.runs} runs; state built in {build_s:.1f} s without latency"
    )
    print(
        f"mean round trip of one read alone: {mean_rt:.1f} ms at {latency} ms latency, "
        f"{unloaded:.1f} ms without (the gateway's own work per read)"
    )
    header = f"{'measurement':<40} {'requests':>8} {'round trips':>11} {'wall ms':>9}"
    print(header)
    print("-" * len(header))
    for label, count, shown_trips, elapsed in rows:
        print(f"{label:<40} {count!s:>8} {shown_trips!s:>11} {elapsed:>9.0f}")
    print()
    budget = 3 + 4 * services
    for cap, (wall, requests) in results.items():
        bound = round_trips(services, cap) * mean_rt
        print(
            f"cap {cap}: plan / lower bound = {wall / bound:.2f} (target <= 1.3; refresh alone "
            f"{refreshes[cap] / bound:.2f}); "
            f"one-at-a-time / ours = {sequential / wall:.1f}x"
            + (f", curl / ours = {curl_ms / wall:.1f}x" if curl_ms is not None else "")
            + f" (target >= 10x); requests {requests} <= budget {budget}: {requests <= budget}"
        )


if __name__ == "__main__":
    main()
