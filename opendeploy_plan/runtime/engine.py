"""The local runtime as one object: build, start, health-check, route and stop deployments.

`LocalRuntime.deploy` carries one deployment out on its own thread and returns a
`LocalDeployment` handle that the emulator reads (status, progress, error, live log). A
redeploy starts the new release beside the old one and switches the route only once the new
one is healthy; the old one is stopped after that. Rollback restarts a kept artifact without
rebuilding. What must survive a gateway restart (the last successful release of each service,
the watchdogs' PIDs) is written under `root` -- never an environment or a secret.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from opendeploy_plan.runtime.builder import (
    Artifact,
    Builder,
    BuildFailed,
    BuildUnsupported,
    ServiceSettings,
    plan_build,
)
from opendeploy_plan.runtime.databases import DatabaseManager
from opendeploy_plan.runtime.files import write_private
from opendeploy_plan.runtime.health import wait_until_healthy
from opendeploy_plan.runtime.logs import LogStream
from opendeploy_plan.runtime.ports import LOOPBACK, free_port
from opendeploy_plan.runtime.router import Router, StaticSite, Upstream
from opendeploy_plan.runtime.supervisor import (
    ProcessLedger,
    Supervised,
    hand_over,
    owned_by,
    unprivileged_user,
)
from opendeploy_plan.runtime.toolchains import Toolchains

HEALTH_TIMEOUT_SECONDS: Final = 60.0
# How long the old release keeps serving requests already routed to it after a switch.
DRAIN_SECONDS: Final = 1.0
KEPT_ARTIFACTS: Final = 5
_RELEASES: Final = "releases.json"
_OUTCOMES: Final = "outcomes.json"
_PORT_FLAG = re.compile(r"(--port[ =]|-p[ =]?|--listen[ =])(\d{2,5})\b")
_HOST_PORT = re.compile(r"(?:\b(?:0\.0\.0\.0|127\.0\.0\.1|localhost)|\[::\]):(\d{2,5})\b")
_ANY_HOST = re.compile(r"(?<![\d.])0\.0\.0\.0(?![\d.])|(?<=\s)::(?=\s|$)")


def default_cache_dir() -> Path:
    """The download caches, virtualenvs, node_modules and database templates, shared by every
    local runtime of this user (content-keyed, so sharing is safe). As root the folder must
    be reachable and writable by the unprivileged build user, hence /var/cache, one folder
    per build user (a cache written by one is not writable by another). `ODPLAN_RUNTIME_CACHE`
    names another folder (a fresh one measures a cold build)."""
    if asked := os.environ.get("ODPLAN_RUNTIME_CACHE"):
        return Path(asked)
    if (run_as := unprivileged_user()) is not None:
        return Path("/var/cache/opendeploy") / run_as.name
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "opendeploy" / "runtime"


def rewrite_start_command(command: str, port: int) -> str:
    """Point a start command at our loopback port: `--port 8000`, `-p 8000`,
    `0.0.0.0:8000` and a bare `0.0.0.0` host all become 127.0.0.1 and `port`."""
    command = _HOST_PORT.sub(f"{LOOPBACK}:{port}", command)
    command = _PORT_FLAG.sub(lambda m: f"{m.group(1)}{port}", command)
    return _ANY_HOST.sub(LOOPBACK, command)


class DeployFailed(Exception):
    """The release did not become healthy (it exited, or never answered)."""


@dataclass(frozen=True)
class DeployRequest:
    """One deployment to carry out. `env` (runtime variables, secrets, dependency env) lives
    in memory only; `secrets` are the values masked in every log line."""

    deployment_id: str
    service_key: str
    environment: str
    source_dir: Path
    settings: ServiceSettings
    subdomain: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: Sequence[str] = ()
    memory_limit_mb: int | None = None
    artifact_of: str | None = None  # a rollback/restart: reuse that deployment's artifact


@dataclass
class LocalDeployment:
    """A deployment as it happens. `status`: pending, building, deploying, success, failed,
    cancelled, superseded (a later release took over). `unsupported` names what the machine
    lacks when the stack cannot run here (status is then failed and nothing ran)."""

    request: DeployRequest
    log: LogStream
    status: str = "pending"
    progress: int = 0
    error: str = ""
    error_phase: str = ""
    unsupported: str | None = None
    started_at: float = field(default_factory=time.time)
    completed_at: float | None = None
    port: int | None = None
    url: str | None = None
    artifact: Artifact | None = None
    process: Supervised | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    # The limit in force (the request's, until a resize while running).
    memory_limit_mb: int | None = None

    def __post_init__(self) -> None:
        self.memory_limit_mb = self.request.memory_limit_mb

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)


@dataclass(frozen=True)
class Outcome:
    """How a deployment ended, kept on disk for reads after a gateway restart. `error` holds
    masked log lines only."""

    status: str
    error: str
    error_phase: str
    started_at: float
    completed_at: float
    unsupported: str | None = None


@dataclass(frozen=True)
class Release:
    """The last successful deployment of a service, as recorded on disk (no secrets)."""

    service_key: str
    deployment_id: str
    environment: str
    subdomain: str | None
    name: str = ""
    memory_limit_mb: int | None = None


class LocalRuntime:
    """Owns the router, the builder, the dependency servers and every running release.

    Invariant: `_current[service_key]` is the release the router sends that service's traffic
    to; every process this runtime started is in the ledger until it is stopped.
    """

    def __init__(self, root: Path, *, router_port: int = 0, cache_dir: Path | None = None) -> None:
        self.root = root
        self.run_as = unprivileged_user()
        root.mkdir(parents=True, exist_ok=True)
        # Private to the gateway's user; as root, the build user may only traverse it to its
        # own artifact and data folders (no listing).
        root.chmod(0o711 if self.run_as else 0o700)
        self.tools = Toolchains.detect(self.run_as)
        cache = cache_dir or default_cache_dir()
        self.builder = Builder(cache, self.tools, self.run_as)
        self.databases = DatabaseManager(root / "data", self.run_as, cache)
        self.router = Router(router_port)
        self.ledger = ProcessLedger(root / "processes.json")
        self._lock = threading.RLock()
        self._current: dict[str, LocalDeployment] = {}
        self._targets: dict[str, StaticSite | Upstream] = {}
        self._hosts: dict[str, tuple[tuple[str, str], ...]] = {}
        self._deployments: dict[str, LocalDeployment] = {}
        self.swept: list[int] = []

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Stop what a crashed gateway left behind, then open the router."""
        self.swept = self.ledger.sweep()
        try:
            self.router.start()
        except OSError:
            if self.router.requested_port == 0:
                raise
            # The usual port is taken (another local platform?): serve on a free one; the
            # gateway prints the port it got.
            self.router = Router(0)
            self.router.start()

    def shutdown(self) -> None:
        """Stop every release and database; free every port."""
        with self._lock:
            deployments = list(self._deployments.values())
        for deployment in deployments:
            deployment.cancelled.set()
        for deployment in deployments:
            self._stop_process(deployment)
        self.databases.stop_all()
        self.router.stop()

    # -- questions ------------------------------------------------------------------------
    def unsupported_reason(self, source_dir: Path, settings: ServiceSettings) -> str | None:
        """What this machine lacks to build and run the service, or None when it can."""
        if not source_dir.is_dir():
            return None  # the build itself reports the missing folder as a failure
        try:
            plan_build(source_dir, settings, self.tools, in_artifact=False)
        except BuildUnsupported as missing:
            return missing.missing
        except BuildFailed:
            return None
        return None

    def get(self, deployment_id: str) -> LocalDeployment | None:
        return self._deployments.get(deployment_id)

    def deployments(self) -> list[LocalDeployment]:
        """Every deployment this runtime carried out since it started, oldest first."""
        with self._lock:
            return sorted(self._deployments.values(), key=lambda d: d.started_at)

    def current(self, service_key: str) -> LocalDeployment | None:
        return self._current.get(service_key)

    def running_services(self) -> list[str]:
        """The services that have a release serving now."""
        with self._lock:
            return list(self._current)

    def releases(self) -> list[Release]:
        """The last successful deployment of each service, as recorded before a restart."""
        return [Release(**entry) for entry in self._read_json(_RELEASES).values()]

    def artifact_exists(self, deployment_id: str) -> bool:
        return (self.root / "artifacts" / deployment_id / "artifact.json").is_file()

    # -- actions --------------------------------------------------------------------------
    def deploy(self, request: DeployRequest) -> LocalDeployment:
        """Start carrying `request` out on a thread; the handle reports progress."""
        deployment = LocalDeployment(request, LogStream(request.secrets))
        with self._lock:
            self._deployments[request.deployment_id] = deployment
        thread = threading.Thread(
            target=self._run, args=(deployment,), name=f"deploy-{request.deployment_id[:8]}"
        )
        thread.daemon = True
        thread.start()
        return deployment

    def restore(
        self, release: Release, env: Mapping[str, str], secrets: Sequence[str] = ()
    ) -> LocalDeployment:
        """Start a recorded release again from its artifact (after a gateway restart), under
        its own deployment id; the caller supplies the environment, which is never stored."""
        return self.deploy(
            DeployRequest(
                deployment_id=release.deployment_id,
                service_key=release.service_key,
                environment=release.environment,
                source_dir=self.root / "artifacts" / release.deployment_id / "app",
                settings=ServiceSettings(release.name or release.service_key),
                subdomain=release.subdomain,
                env=env,
                secrets=secrets,
                memory_limit_mb=release.memory_limit_mb,
                artifact_of=release.deployment_id,
            )
        )

    def resize(self, service_key: str, memory_limit_mb: int | None) -> bool:
        """Enforce a new memory limit on the service's running release now (a cgroup where
        writable, else the watchdog's RSS watch: over it, the process is stopped with an
        out-of-memory line in its logs); the next restart keeps it. False when nothing of
        that service runs or the limit is unchanged."""
        with self._lock:
            current = self._current.get(service_key)
            if current is None or current.memory_limit_mb == memory_limit_mb:
                return False
            current.memory_limit_mb = memory_limit_mb
            process = current.process
            release = self._read_json(_RELEASES).get(service_key)
            if isinstance(release, dict):
                release["memory_limit_mb"] = memory_limit_mb
                self._record_release(service_key, Release(**release))
        if process is None:
            return False  # a static site: the router serves it, no process to limit
        return process.set_memory_limit(memory_limit_mb * 2**20 if memory_limit_mb else None)

    def cancel(self, deployment_id: str) -> None:
        if (deployment := self._deployments.get(deployment_id)) is not None:
            deployment.cancelled.set()

    def stop_service(self, service_key: str) -> None:
        """Stop a service's release and take its route down (destroy)."""
        with self._lock:
            self._current.pop(service_key, None)
            self._targets.pop(service_key, None)
            others = [d for d in self._deployments.values() if d.request.service_key == service_key]
            self._publish_routes()
        for deployment in others:
            deployment.cancelled.set()
        for deployment in others:
            self._stop_process(deployment)
        self._record_release(service_key, None)

    # -- the deployment thread -------------------------------------------------------------
    def _run(self, deployment: LocalDeployment) -> None:
        log = deployment.log
        try:
            artifact = self._artifact(deployment)
            if deployment.cancelled.is_set():
                raise BuildFailed("the deployment was cancelled")
            deployment.artifact = artifact
            deployment.status, deployment.progress = "deploying", 60
            self._release(deployment, artifact)
        except BuildUnsupported as missing:
            deployment.unsupported = missing.missing
            self._fail(deployment, "building", f"cannot build here: missing {missing.missing}")
        except BuildFailed as error:
            if deployment.cancelled.is_set():
                deployment.status = "cancelled"
                log.write("Deployment cancelled by user", phase="cancelled", level="warn")
            else:
                self._fail(deployment, deployment.error_phase or "building", str(error))
        except DeployFailed as error:
            self._fail(deployment, "deploying", str(error))
        except Exception as error:  # a bug or an OS failure: fail the deployment, say why
            phase = deployment.error_phase or "deploying"
            self._fail(deployment, phase, f"the local runtime failed: {error}")
        finally:
            if deployment.status != "success":
                self._stop_process(deployment)
            deployment.completed_at = time.time()
            self._record_outcome(deployment)
            deployment.done.set()

    def _artifact(self, deployment: LocalDeployment) -> Artifact:
        request = deployment.request
        log = deployment.log
        artifacts = self.root / "artifacts"
        if request.artifact_of is not None:
            folder = artifacts / request.artifact_of
            log.write(f"reusing the build of deployment {request.artifact_of}", phase="building")
            if not owned_by(folder, self.run_as):
                hand_over(folder, self.run_as)  # built under another build user
            return Artifact.load(folder)
        deployment.status, deployment.progress = "building", 20
        deployment.error_phase = "building"
        folder = artifacts / request.deployment_id
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        hand_over(folder, self.run_as)
        started = time.monotonic()
        log.write(
            f"Building {request.settings.name} from {request.source_dir.name}", phase="building"
        )
        artifact = self.builder.build(
            request.source_dir, folder, request.settings, log, deployment.cancelled
        )
        log.write(f"Build finished in {time.monotonic() - started:.1f} s", phase="building")
        self._prune_artifacts(request.service_key, keep=request.deployment_id)
        return artifact

    def _release(self, deployment: LocalDeployment, artifact: Artifact) -> None:
        request = deployment.request
        log = deployment.log
        deployment.error_phase = "deploying"
        if artifact.kind == "static":
            assert artifact.static_root is not None
            log.write(
                f"Serving static files from {Path(artifact.static_root).name}/", phase="deploying"
            )
            self._switch(deployment, StaticSite(artifact.static_root))
            return
        assert artifact.start_command is not None
        port = free_port() if artifact.kind == "web" else None
        command = (
            rewrite_start_command(artifact.start_command, port)
            if port
            else (artifact.start_command)
        )
        env = self._app_env(artifact, request, port)
        log.write(f"Starting: {command}" + (f" (PORT={port})" if port else ""), phase="deploying")
        process = Supervised(
            ["/bin/sh", "-c", f"exec {command}"],
            cwd=Path(artifact.app_dir),
            env=env,
            log=log,
            phase="runtime",
            run_as=self.run_as,
            memory_limit_bytes=request.memory_limit_mb * 2**20 if request.memory_limit_mb else None,
            label=request.deployment_id[:12],
        )
        self.ledger.record(process)
        deployment.process, deployment.port = process, port
        deployment.progress = 80
        result = wait_until_healthy(
            port=port,
            health_check_path=artifact.health_check_path,
            exit_code=lambda: None if process.alive() else process.wait(0),
            timeout=HEALTH_TIMEOUT_SECONDS,
            cancelled=deployment.cancelled.is_set,
            process_group=process.pgid,
        )
        if not result.ok:
            self._stop_process(deployment)
            if deployment.cancelled.is_set():
                raise BuildFailed("the deployment was cancelled")
            raise DeployFailed(f"health check failed: {result.detail}")
        log.write(f"Health check passed: {result.detail}", phase="deploying")
        self._switch(deployment, Upstream(port) if port else None)

    def _app_env(
        self, artifact: Artifact, request: DeployRequest, port: int | None
    ) -> dict[str, str]:
        env = self.builder.base_env(Path(artifact.folder) / "home")
        env["PATH"] = ":".join([*artifact.path_prefix, env["PATH"]])
        env.update(artifact.extra_env)
        env.update(request.env)
        env["HOST"] = LOOPBACK
        if port is not None:
            env["PORT"] = str(port)
        return env

    def _switch(self, deployment: LocalDeployment, target: StaticSite | Upstream | None) -> None:
        """Make `deployment` the service's release: route to it, then retire the old one."""
        request = deployment.request
        with self._lock:
            if deployment.cancelled.is_set():
                raise BuildFailed("the deployment was cancelled")
            previous = self._current.get(request.service_key)
            self._current[request.service_key] = deployment
            if target is not None:
                self._targets[request.service_key] = target
            else:
                self._targets.pop(request.service_key, None)
            self._publish_routes()
            hosts = self._hosts_of(request.service_key)
            if target is not None and hosts:
                deployment.url = self.router.url_for(*hosts[0])
            deployment.status, deployment.progress = "success", 100
        deployment.log.write(
            f"Live at {deployment.url}" if deployment.url else "Running", phase="deploying"
        )
        self._record_release(
            request.service_key,
            Release(
                request.service_key,
                request.artifact_of if request.artifact_of else request.deployment_id,
                request.environment,
                request.subdomain,
                request.settings.name,
                request.memory_limit_mb,
            ),
        )
        if previous is not None and previous is not deployment:
            previous.status = "superseded" if previous.status == "success" else previous.status

            def retire() -> None:
                time.sleep(DRAIN_SECONDS)
                self._stop_process(previous)

            threading.Thread(target=retire, daemon=True).start()

    def set_hosts(self, service_key: str, hosts: Sequence[tuple[str, str]]) -> None:
        """The (subdomain, environment) names a service answers to, besides its request's
        own `subdomain` (the platform's auto and renamed domains)."""
        with self._lock:
            if self._hosts.get(service_key) != tuple(hosts):
                self._hosts[service_key] = tuple(hosts)
                self._publish_routes()

    def url_of(self, service_key: str) -> str | None:
        hosts = self._hosts_of(service_key)
        return self.router.url_for(*hosts[0]) if hosts and service_key in self._targets else None

    def _hosts_of(self, service_key: str) -> list[tuple[str, str]]:
        names = list(self._hosts.get(service_key, ()))
        current = self._current.get(service_key)
        if current is not None and current.request.subdomain:
            own = (current.request.subdomain, current.request.environment)
            if own not in names:
                names.insert(0, own)
        return names

    def _publish_routes(self) -> None:
        """Swap the router's whole table for one built from the current releases (called
        with the lock held), so a switch is one atomic step."""
        table = {}
        for service_key, target in self._targets.items():
            for host in self._hosts_of(service_key):
                table[host] = target
        self.router.replace_routes(table)

    def _stop_process(self, deployment: LocalDeployment) -> None:
        process = deployment.process
        if process is not None:
            process.stop(5.0)
            self.ledger.forget(process)

    def _fail(self, deployment: LocalDeployment, phase: str, message: str) -> None:
        """Fail with the platform's wording ("Build failed: …") and the real last lines."""
        tail = [line for line in deployment.log.tail(12) if line.strip()]
        deployment.status = "failed"
        deployment.error_phase = phase
        lead = "Build failed" if phase == "building" else "Deploy failed"
        text = f"{lead}: {message}"
        deployment.error = text + ("\n" + "\n".join(tail[-8:]) if tail else "")
        deployment.log.write(text, phase=phase, level="error")

    def outcome(self, deployment_id: str) -> Outcome | None:
        """How a deployment of an earlier gateway run ended (its handle is gone)."""
        entry = self._read_json(_OUTCOMES).get(deployment_id)
        return Outcome(**entry) if isinstance(entry, dict) else None

    def _record_outcome(self, deployment: LocalDeployment) -> None:
        if deployment.request.artifact_of == deployment.request.deployment_id:
            return  # a restore: the original outcome stands
        outcome = Outcome(
            deployment.status,
            deployment.error,
            deployment.error_phase,
            deployment.started_at,
            deployment.completed_at or time.time(),
            deployment.unsupported,
        )
        with self._lock:
            data = self._read_json(_OUTCOMES)
            data[deployment.request.deployment_id] = asdict(outcome)
            self._write_json(_OUTCOMES, data)

    def _read_json(self, name: str) -> dict[str, Any]:
        try:
            data = json.loads((self.root / name).read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_json(self, name: str, data: dict[str, Any]) -> None:
        write_private(self.root / name, json.dumps(data, indent=1))

    def _record_release(self, service_key: str, release: Release | None) -> None:
        with self._lock:
            data = self._read_json(_RELEASES)
            if release is None:
                data.pop(service_key, None)
            else:
                data[service_key] = asdict(release)
            self._write_json(_RELEASES, data)

    def _prune_artifacts(self, service_key: str, keep: str) -> None:
        """Keep the newest artifacts of a service (rollback targets); drop older ones."""
        mine = sorted(
            (d for d in self._deployments.values() if d.request.service_key == service_key),
            key=lambda d: d.started_at,
        )
        in_use = {d.request.deployment_id for d in mine if d.process and d.process.alive()}
        for old in mine[:-KEPT_ARTIFACTS]:
            deployment_id = old.request.deployment_id
            if deployment_id not in in_use and deployment_id != keep:
                shutil.rmtree(self.root / "artifacts" / deployment_id, ignore_errors=True)
