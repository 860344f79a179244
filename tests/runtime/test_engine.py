"""LocalRuntime end to end: real builds and processes, answers through the real router."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from opendeploy_plan.runtime import ServiceSettings, unprivileged_user
from opendeploy_plan.runtime.engine import DeployRequest, LocalDeployment, LocalRuntime

from .conftest import SHARED_CACHE, get_through_router, wait_for

CANARY = "canary-7f3b9c1e-secret"


def deploy(
    runtime: LocalRuntime,
    source: Path,
    deployment_id: str,
    *,
    subdomain: str,
    start: str = "",
    environment: str = "production",
    artifact_of: str | None = None,
    **settings: object,
) -> LocalDeployment:
    request = DeployRequest(
        deployment_id=deployment_id,
        service_key=subdomain,
        environment=environment,
        source_dir=source,
        settings=ServiceSettings(subdomain, start_command=start, **settings),  # type: ignore[arg-type]
        subdomain=subdomain,
        env={"CANARY": CANARY},
        secrets=[CANARY],
        artifact_of=artifact_of,
    )
    deployment = runtime.deploy(request)
    assert deployment.wait(180), "deployment did not finish"
    return deployment


def messages(deployment: LocalDeployment) -> str:
    return "\n".join(line.message for line in deployment.log.lines())


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


@pytest.mark.slow
def test_node_static_and_dockerfile_apps(
    runtime: LocalRuntime, app_copy: Callable[[str], Path]
) -> None:
    node = deploy(runtime, app_copy("node_app"), "node-1", subdomain="web")
    static = deploy(
        runtime, app_copy("static_site"), "st-1", subdomain="site", environment="staging"
    )
    docker = deploy(runtime, app_copy("docker_py"), "dk-1", subdomain="boxed")
    for deployment in (node, static, docker):
        assert deployment.status == "success", messages(deployment)
    assert get_through_router(runtime, "web.localhost").text == "hello from node v1\n"
    assert get_through_router(runtime, "site.dev.localhost").text == "<h1>static v1</h1>\n"
    assert get_through_router(runtime, "site.localhost").status_code == 404  # staging only
    assert get_through_router(runtime, "boxed.localhost").text == "hello from python v1\n"
    assert "no container" in messages(docker)
    assert static.process is None  # served by the router itself


@pytest.mark.slow
def test_zero_failed_requests_during_a_redeploy(
    runtime: LocalRuntime, app_copy: Callable[[str], Path]
) -> None:
    source = app_copy("py_app")
    assert deploy(runtime, source, "z-1", subdomain="steady").status == ("success")
    answers: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(timeout=5) as client:  # keep-alive: follows the switch per request
            while not stop.is_set():
                try:
                    response = client.get(
                        f"http://127.0.0.1:{runtime.router.port}/",
                        headers={"Host": "steady.localhost"},
                    )
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {response.text[:80]}")
                    else:
                        answers.append(response.text)
                except httpx.HTTPError as error:
                    failures.append(repr(error))

    worker = threading.Thread(target=hammer)
    worker.start()
    try:
        # The old release must be seen answering before the switch (a loaded machine may start
        # the thread late).
        deadline = time.monotonic() + 20
        while not answers and not failures and time.monotonic() < deadline:
            time.sleep(0.01)
        edit(source / "app.py", "python v1", "python v2")
        second = deploy(runtime, source, "z-2", subdomain="steady")
        assert second.status == "success", messages(second)
        first = runtime.get("z-1")
        assert first is not None and first.process is not None
        first.process.wait(10)
        last = len(answers)
        while len(answers) < last + 20:
            pass
    finally:
        stop.set()
        worker.join()
    assert failures == []
    assert "hello from python v1\n" in answers and answers[-1] == "hello from python v2\n"


@pytest.mark.slow
def test_failing_build_and_crashing_app_fail_with_their_real_output(
    runtime: LocalRuntime, app_copy: Callable[[str], Path]
) -> None:
    bad = deploy(runtime, app_copy("bad_deps_app"), "bad-1", subdomain="bad")
    assert bad.status == "failed" and bad.error_phase == "building"
    assert "this-package-does-not-exist-odplan" in messages(bad)
    assert "exited with code" in bad.error

    crash = deploy(
        runtime, app_copy("crash_app"), "crash-1", subdomain="crash", start="python app.py"
    )
    assert crash.status == "failed" and crash.error_phase == "deploying"
    assert "DATABASE_HOST is not configured" in crash.error
    assert "starting crash_app" in messages(crash)
    assert get_through_router(runtime, "crash.localhost").status_code == 404


@pytest.mark.slow
def test_worker_is_healthy_when_alive_after_its_grace(
    runtime: LocalRuntime, app_copy: Callable[[str], Path]
) -> None:
    worker = deploy(
        runtime, app_copy("worker_app"), "w-1", subdomain="jobs", start="python worker.py"
    )
    assert worker.status == "success", messages(worker)
    assert worker.port is None and worker.url is None
    assert "worker ticking" in messages(worker)


def test_a_stack_this_machine_cannot_run_is_named(runtime: LocalRuntime, work_dir: Path) -> None:
    source = work_dir / "goapp"
    source.mkdir()
    (source / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    (source / "main.go").write_text(
        'package main\nfunc main() { http.ListenAndServe(":8080", nil) }\n'
    )
    reason = runtime.unsupported_reason(source, ServiceSettings("goapp"))
    assert reason is not None and "go" in reason


@pytest.mark.slow
def test_the_canary_never_reaches_a_file_or_a_log(
    runtime: LocalRuntime, app_copy: Callable[[str], Path], work_dir: Path
) -> None:
    source = app_copy("py_app")
    edit(source / "app.py", 'print("py_app listening', 'print(os.environ["CANARY"], "listening')
    deployment = deploy(runtime, source, "c-1", subdomain="canary")
    assert deployment.status == "success", messages(deployment)
    assert get_through_router(runtime, "canary.localhost", "/env").text == "canary set"
    assert CANARY not in messages(deployment)
    assert "******** listening" in messages(deployment)
    runtime.shutdown()
    for path in (work_dir / "local").rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert CANARY.encode() not in path.read_bytes(), path


@pytest.mark.slow
def test_a_new_runtime_restores_the_last_releases_and_cancel_stops_a_build(
    work_dir: Path, app_copy: Callable[[str], Path]
) -> None:
    first = LocalRuntime(work_dir / "local", cache_dir=SHARED_CACHE)
    first.start()
    source = app_copy("py_app")
    try:
        assert deploy(first, source, "r-1", subdomain="again").status == ("success")
    finally:
        first.shutdown()
    second = LocalRuntime(work_dir / "local", cache_dir=SHARED_CACHE)
    second.start()
    try:
        [release] = second.releases()
        assert (release.deployment_id, release.subdomain) == ("r-1", "again")
        restored = second.restore(release, {"CANARY": CANARY}, [CANARY])
        assert restored.wait(60) and restored.status == "success", messages(restored)
        assert get_through_router(second, "again.localhost").text == "hello from python v1\n"

        slow = app_copy("node_app")
        edit(slow / "package.json", '"scripts":{', '"scripts":{"build":"sleep 30",')
        building = second.deploy(
            DeployRequest(
                "r-2", "slow", "production", slow, ServiceSettings("slow"), subdomain="slow"
            )
        )
        assert wait_for(lambda: "> sleep 30" in messages(building)), messages(building)
        second.cancel("r-2")
        assert building.wait(10) and building.status == "cancelled"
    finally:
        second.shutdown()


def _uids_in_group(pgid: int, leader: int) -> list[int]:
    """The real uids of the group's processes other than its leader (the watchdog)."""
    uids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == leader:
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        if int(stat[stat.rfind(b")") + 2 :].split()[2]) == pgid:
            line = next(x for x in status.splitlines() if x.startswith("Uid:"))
            uids.append(int(line.split()[1]))
    return uids


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="only a root gateway switches users")
def test_builds_and_apps_run_as_the_dedicated_unprivileged_user(
    runtime: LocalRuntime, app_copy: Callable[[str], Path]
) -> None:
    run_as = unprivileged_user()
    assert run_as is not None and run_as.uid != 0
    # odplan-run where useradd works (this machine), else nobody: never root either way.
    assert run_as.name in ("odplan-run", "nobody")
    deployment = deploy(
        runtime, app_copy("py_app"), "u-1", subdomain="whoami", build_command="id -u > built-by"
    )
    assert deployment.status == "success", messages(deployment)
    assert get_through_router(runtime, "whoami.localhost", "/whoami").text == str(run_as.uid)
    assert deployment.process is not None and deployment.artifact is not None
    uids = _uids_in_group(deployment.process.pgid, deployment.process.pid)
    assert uids and set(uids) == {run_as.uid}, uids
    built = Path(deployment.artifact.app_dir, "built-by")
    assert built.read_text().strip() == str(run_as.uid)  # the build ran as that user too
    assert Path(deployment.artifact.folder).stat().st_uid == run_as.uid
    assert runtime.builder.cache_dir.stat().st_uid == run_as.uid  # caches are writable by it
