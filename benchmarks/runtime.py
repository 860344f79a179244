"""Local runtime benchmark: the FastAPI + PostgreSQL + Redis example applied with `odplan apply`
to a gateway on the local runtime, really built and started on this machine, answering
through the local router.

Run: .venv/bin/python benchmarks/runtime.py [--requests 400]

Prints, in one run (the machine is shared: compare ratios within a run, not seconds across):

1. `odplan apply` of the example to the first 200 of GET /readyz through the router (a query
   to PostgreSQL and a PING to Redis), split into install (dependency installation), build
   (the rest of the build: copy, virtualenv, build command), start (process start to
   healthy), waiting for the databases, and odplan's own overhead (everything else: the CLI,
   planning, upload, API calls, polling); target overhead <= 10%;
2. redeploy after a one-line change with warm caches: `odplan apply` to the new answer vs
   (the warm build alone + the app's own start time measured alone); target <= 1.5x;
3. router: added latency per request at p50 vs calling the app's port directly; target
   <= 1 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opendeploy_plan.runtime import LocalDeployment, find_postgres, find_redis, unprivileged_user
from opendeploy_plan.runtime.ports import free_port

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fastapi-postgres-redis"
HOST = "fastapi-links.localhost"
_DEPENDENCIES = re.compile(r"Dependencies ready after ([\d.]+) s")


@contextmanager
def local_gateway(work: Path) -> Iterator[tuple[str, str, Any]]:
    from opendeploy_plan.emulator import EmulatorConfig, create_app
    from opendeploy_plan.emulator.server import serve_in_thread

    config = EmulatorConfig(
        db_path=":memory:",
        runtime="local",
        runtime_dir=str(work / "runtime"),
        pending_seconds=0.1,
        dependency_ready_seconds=0.2,
        auto_domain_delay_seconds=0.2,
        domain_reconcile_seconds=0.2,
    )
    app = create_app(config)
    runner = app.state.emulator.runner
    try:
        with serve_in_thread(app, wait_for_stop=False) as root:
            app.state.emulator.config.public_url = f"{root}/api"
            yield f"{root}/api", app.state.emulator.mint_dashboard_token(), runner
    finally:
        runner.close()


def apply(base_url: str, token: str, manifest: Path) -> subprocess.Popen[bytes]:
    home = manifest.parent.parent / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OD_", "OPDEPLOY_"))}
    env.update(
        HOME=str(home),
        OPDEPLOY_AUTH_FILE=str(home / "auth.json"),
        OPDEPLOY_LOG_DIR=str(home / "logs"),
        OD_API_KEY=token,
        OD_GATEWAY=base_url,
        SHORTENER_ADMIN_TOKEN="bench-admin-token",
        NO_COLOR="1",
    )
    argv = [sys.executable, "-m", "opendeploy_plan", "apply", "--auto-approve", "-f"]
    return subprocess.Popen(
        [*argv, str(manifest), "--gateway", base_url],
        env=env,
        cwd=manifest.parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def first_answer(port: int, host: str, path: str, expect: str, timeout: float = 900) -> float:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            try:
                response = client.get(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
                if response.status_code == 200 and expect in response.text:
                    return time.monotonic()
            except httpx.HTTPError:
                pass
            time.sleep(0.01)
    raise SystemExit(f"no answer containing {expect!r} from {host}{path}")


def phase_seconds(deployment: LocalDeployment) -> dict[str, float]:
    """Install/build/start and the wait for databases, off the deployment's log timestamps."""
    lines = deployment.log.lines()
    install = 0.0
    for index, line in enumerate(lines):
        if line.message.startswith("$ ") and " install" in line.message:
            after = [x for x in lines[index + 1 :] if x.message.startswith(("$ ", "Build "))]
            if after:
                install += after[0].timestamp - line.timestamp
    building = next(x.timestamp for x in lines if x.message.startswith("Building "))
    built = next(x.timestamp for x in lines if x.message.startswith("Build finished"))
    starting = next(x.timestamp for x in lines if x.message.startswith("Starting:"))
    healthy = next(x.timestamp for x in lines if x.message.startswith("Health check passed"))
    waits = [float(m.group(1)) for x in lines if (m := _DEPENDENCIES.search(x.message))]
    return {
        "install": install,
        "build": built - building - install,
        "start": healthy - starting,
        "databases": waits[0] if waits else 0.0,
    }


def p50_ms(port: int, host: str, count: int) -> float:
    samples = []
    with httpx.Client(headers={"Host": host}) as client:
        for _ in range(count):
            started = time.perf_counter()
            client.get(f"http://127.0.0.1:{port}/healthz")
            samples.append(time.perf_counter() - started)
    return statistics.median(samples[count // 10 :]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    run_as = unprivileged_user()
    if find_postgres(run_as) is None or find_redis(run_as) is None:
        raise SystemExit("needs PostgreSQL and redis-server (or `pip install '.[local]'`)")
    work = Path(tempfile.mkdtemp(prefix="odplan-bench-"))
    work.chmod(0o755)
    shutil.copytree(EXAMPLE, work / "app", ignore=shutil.ignore_patterns(".opendeploy"))
    manifest = work / "app" / "opendeploy.yaml"
    try:
        with local_gateway(work) as (base_url, token, runner):
            router = runner.router_port
            started = time.monotonic()
            process = apply(base_url, token, manifest)
            answered = first_answer(router, HOST, "/readyz", "ready")
            total = answered - started
            if process.wait(300) != 0:
                raise SystemExit("odplan apply failed")
            [first] = [d for d in runner.runtime.deployments() if d.status == "success"]
            phases = phase_seconds(first)
            overhead = total - sum(phases.values())
            print("1. odplan apply of the FastAPI + PostgreSQL + Redis example (seconds)")
            for name in ("install", "build", "start", "databases"):
                print(f"   {name:<38} {phases[name]:7.2f}")
            print(
                f"   odplan overhead                        {overhead:7.2f}  "
                f"({overhead / total:.1%} of {total:.2f} to the first 200; target <= 10%)"
            )

            main_py = work / "app" / "app" / "main.py"
            text = main_py.read_text()
            main_py.write_text(text.replace('{"status": "ok"}', '{"status": "ok v2"}', 1))
            started = time.monotonic()
            wall = time.time()
            process = apply(base_url, token, manifest)
            answered = first_answer(router, HOST, "/healthz", "ok v2")
            redeploy = answered - started
            process.wait(300)
            second = runner.runtime.current(first.request.service_key)
            warm = phase_seconds(second)
            print(
                f"   (the runtime got the deployment {second.started_at - wall:.2f} s after "
                "`odplan apply` started: the CLI, refresh, plan and upload before it)"
            )
            artifact = second.artifact
            port = free_port()
            alone_env = {**os.environ, **second.request.env, **artifact.extra_env}
            alone_env.update(
                PORT=str(port), PATH=":".join([*artifact.path_prefix, "/usr/bin:/bin"])
            )
            begun = time.monotonic()
            alone = subprocess.Popen(
                ["uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
                cwd=artifact.app_dir,
                env=alone_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            alone_start = first_answer(port, "x", "/healthz", "ok v2") - begun
            build_alone = warm["install"] + warm["build"]
            baseline = build_alone + alone_start
            print("2. redeploy after a one-line change, warm caches (seconds)")
            print(f"   odplan apply to the new answer         {redeploy:7.2f}")
            print(
                f"   warm build alone + app start alone     {baseline:7.2f}  "
                f"(build {build_alone:.2f} + start {alone_start:.2f})"
            )
            ratio = redeploy / baseline
            print(f"   ratio                                  {ratio:7.2f}x (target <= 1.5x)")

            direct = p50_ms(port, "x", args.requests)
            routed = p50_ms(router, HOST, args.requests)
            alone.terminate()
            alone.wait()
            print(f"3. router latency at p50 over {args.requests} keep-alive requests (ms)")
            print(
                f"   direct {direct:.3f}  through the router {routed:.3f}  "
                f"added {routed - direct:.3f} (target <= 1 ms)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
