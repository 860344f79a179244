"""Local runtime benchmark: a real Python + PostgreSQL + Redis app, built and started on this
machine, answering through the local router.

Run: .venv/bin/python benchmarks/runtime.py [--requests 400]

Prints, in one run (the machine is shared: compare ratios within a run, not seconds across):

1. first deploy to the first 200 through the router, split into install (dependency
   installation), build (the rest of the build: copy, venv, build command), start (process
   start to healthy) and odplan's own overhead (everything else); target overhead <= 10%;
2. redeploy after a one-line change with warm caches: time to the new answer vs (the warm
   build alone + the app's own start time measured alone); target <= 1.5x;
3. router: added latency per request at p50 vs calling the app's port directly; target <= 1 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opendeploy_plan.runtime import LogStream, ServiceSettings, unprivileged_user
from opendeploy_plan.runtime.databases import Credentials, find_postgres, find_redis
from opendeploy_plan.runtime.engine import DeployRequest, LocalDeployment, LocalRuntime
from opendeploy_plan.runtime.ports import free_port

APP = Path(__file__).resolve().parent.parent / "tests" / "runtime" / "fixtures" / "py_db_app"


def phase_seconds(deployment: LocalDeployment) -> dict[str, float]:
    """Install/build/start durations read off the deployment's own log timestamps."""
    lines = deployment.log.lines()
    start = deployment.started_at
    install = 0.0
    for index, line in enumerate(lines):
        if line.message.startswith("$ ") and " install" in line.message:
            following = next(
                (x for x in lines[index + 1 :] if x.message.startswith(("$", "Build"))), None
            )
            if following is not None:
                install += following.timestamp - line.timestamp
    built = next(x.timestamp for x in lines if x.message.startswith("Build finished"))
    starting = next(x.timestamp for x in lines if x.message.startswith("Starting:"))
    healthy = next(x.timestamp for x in lines if x.message.startswith("Health check passed"))
    return {
        "install": install,
        "build": (built - start) - install,
        "start": healthy - starting,
    }


def first_answer(port: int, host: str, path: str, expect: str, timeout: float = 600) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.get(
                f"http://127.0.0.1:{port}{path}", headers={"Host": host}, timeout=5
            )
            if response.status_code == 200 and expect in response.text:
                return time.monotonic()
        except httpx.HTTPError:
            pass
        time.sleep(0.005)
    raise SystemExit(f"no answer containing {expect!r} from {host}{path}")


def p50_ms(port: int, host: str, count: int) -> float:
    samples = []
    with httpx.Client(headers={"Host": host}) as client:
        for _ in range(count):
            started = time.perf_counter()
            client.get(f"http://127.0.0.1:{port}/")
            samples.append(time.perf_counter() - started)
    return statistics.median(samples[count // 10 :]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    run_as = unprivileged_user()
    if find_postgres(run_as) is None or find_redis(run_as) is None:
        raise SystemExit("needs PostgreSQL and redis-server (or `pip install '.[local]'`)")
    work = Path(tempfile.mkdtemp(prefix="odplan-bench-"))
    work.chmod(0o755)
    source = work / "app"
    shutil.copytree(APP, source)
    runtime = LocalRuntime(work / "local")
    runtime.start()
    try:
        log = LogStream()
        t0 = time.monotonic()
        pg = runtime.databases.ensure(
            "pg", "postgres", Credentials("app", "bench-pw-1", "shop"), log
        )
        rd = runtime.databases.ensure("rd", "redis", Credentials("default", "bench-pw-2", "0"), log)
        databases = time.monotonic() - t0
        env = {
            "DATABASE_URL": f"postgresql://app:bench-pw-1@127.0.0.1:{pg.port}/shop",
            "REDIS_URL": f"redis://default:bench-pw-2@127.0.0.1:{rd.port}/0",
        }

        def deploy(deployment_id: str) -> tuple[LocalDeployment, float]:
            started = time.monotonic()
            deployment = runtime.deploy(
                DeployRequest(
                    deployment_id=deployment_id,
                    service_key="shop",
                    environment="production",
                    source_dir=source,
                    settings=ServiceSettings("shop", start_command="python app.py", port=8000),
                    subdomain="shop",
                    env=env,
                    secrets=["bench-pw-1", "bench-pw-2"],
                )
            )
            return deployment, started

        first, started = deploy("d1")
        answered = first_answer(runtime.router.port, "shop.localhost", "/", "ok")
        first.wait(60)
        total = answered - started
        phases = phase_seconds(first)
        overhead = total - sum(phases.values())
        print("1. first deploy of the Python + PostgreSQL + Redis app (seconds)")
        print(f"   databases ready (before the deploy)   {databases:7.2f}")
        for name in ("install", "build", "start"):
            print(f"   {name:<38} {phases[name]:7.2f}")
        print(
            f"   odplan overhead                        {overhead:7.2f}  "
            f"({overhead / total:.1%} of {total:.2f}; target <= 10%)"
        )

        app_py = source / "app.py"
        app_py.write_text(app_py.read_text().replace('body = b"ok"', 'body = b"ok v2"'))
        second, started = deploy("d2")
        answered = first_answer(runtime.router.port, "shop.localhost", "/", "ok v2")
        second.wait(60)
        redeploy = answered - started
        warm = phase_seconds(second)
        artifact = second.artifact
        assert artifact is not None
        port = free_port()
        alone_env = {**os.environ, **env, **artifact.extra_env, "PORT": str(port)}
        alone_env["PATH"] = ":".join([*artifact.path_prefix, alone_env["PATH"]])
        begun = time.monotonic()
        alone = subprocess.Popen(
            [f"{artifact.path_prefix[0]}/python", "app.py"], cwd=artifact.app_dir, env=alone_env
        )
        ready = first_answer(port, "x", "/", "ok")
        alone_start = ready - begun
        baseline = warm["build"] + warm["install"] + alone_start
        print("2. redeploy after a one-line change, warm caches (seconds)")
        print(f"   time to the new answer                 {redeploy:7.2f}")
        print(
            f"   warm build alone + app start alone     {baseline:7.2f}  "
            f"(build {warm['build'] + warm['install']:.2f} + start {alone_start:.2f})"
        )
        print(
            f"   ratio                                  {redeploy / baseline:7.2f}x"
            " (target <= 1.5x)"
        )

        direct = p50_ms(port, "x", args.requests)
        routed = p50_ms(runtime.router.port, "shop.localhost", args.requests)
        alone.terminate()
        alone.wait()
        print(f"3. router latency at p50 over {args.requests} keep-alive requests (ms)")
        print(
            f"   direct {direct:.3f}  through the router {routed:.3f}  "
            f"added {routed - direct:.3f} (target <= 1 ms)"
        )
    finally:
        runtime.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
