"""The local runtime behind the emulator's `DeploymentRunner` seam: deployments really build,
run and answer (`opendeploy_plan.runtime`), or fall back to the simulation, per deployment,
when this machine cannot run the stack (the logs say what is missing).

The resource model stays the single source of truth: the runner reads a service's runtime
variables, its project's dependencies and its domains from the store, and keeps nothing of
them on disk. `choose_runner` turns `EmulatorConfig.runtime` (`local`, `simulate`, `auto`)
into a runner.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from opendeploy_plan import platform
from opendeploy_plan.emulator.common import ts
from opendeploy_plan.emulator.config import EmulatorConfig
from opendeploy_plan.emulator.context import Context
from opendeploy_plan.emulator.runner import (
    DeploymentOrder,
    DeploymentRecord,
    DeploymentRunner,
    LogEntry,
    Observation,
    SimulatedRunner,
    observe_simulated,
    simulated_log_lines,
)
from opendeploy_plan.runtime import (
    Credentials,
    DatabaseFailed,
    DatabaseUnavailable,
    DeployRequest,
    LocalRuntime,
    LogStream,
    ServiceSettings,
    Toolchains,
    unprivileged_user,
)

# Variables whose values are masked in every log line (names as odplan's own checks read them).
_SECRET_NAME: Final = re.compile(r"(_KEY$|^KEY$|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL)", re.I)
_URL_PASSWORD: Final = re.compile(r"://[^:/@\s]+:([^@\s]+)@")
_SYNC_SECONDS: Final = 0.5
_PROGRESS: Final = {"pending": 5, "building": 30, "deploying": 70}


def runtime_missing() -> str | None:
    """What this machine lacks for any local deployment (None: the local runtime can run)."""
    tools = Toolchains.detect(unprivileged_user())
    if tools.python is None and tools.node is None:
        return "python3 or node usable by the build user"
    return None


def default_runtime_dir(db_path: str) -> Path | None:
    """Where builds, artifacts and database data of the gateway with this database live; one
    folder per database, since a gateway sweeps what its folder's ledger lists. None for a
    `:memory:` gateway (a temporary folder, removed when it stops). As root, user code runs as
    `nobody`, who cannot enter /root: the folder is then under /var/lib."""
    if db_path == ":memory:":
        return None
    db = Path(db_path).expanduser().resolve()
    if os.geteuid() == 0:
        return Path("/var/lib/opendeploy") / hashlib.sha256(str(db).encode()).hexdigest()[:16]
    return db.parent / "runtime"


def choose_runner(config: EmulatorConfig) -> DeploymentRunner | None:
    """The runner `config.runtime` asks for; None means the default simulated runner."""
    if config.runtime == "simulate" or (config.runtime == "auto" and runtime_missing()):
        return None
    # The router serves a host name as soon as its domain row exists: the platform's DNS and
    # certificate delays are not simulated on top of a real local release.
    config.auto_domain_delay_seconds = 0.0
    config.domain_reconcile_seconds = 0.0
    chosen = config.runtime_dir or default_runtime_dir(config.db_path)
    if chosen is not None:
        return LocalRunner(config, Path(chosen), router_port=config.router_port)
    temporary = Path(tempfile.mkdtemp(prefix="odplan-runtime-"))
    temporary.chmod(0o755)  # the unprivileged build user must reach its artifacts
    return LocalRunner(config, temporary, router_port=config.router_port, temporary=True)


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The values to mask: secret-looking variables and passwords inside URLs."""
    found = [v for k, v in env.items() if v and _SECRET_NAME.search(k)]
    found += [m.group(1) for v in env.values() for m in _URL_PASSWORD.finditer(v)]
    return found


def _settings(order: DeploymentOrder) -> ServiceSettings:
    spec = order.spec
    port = spec.get("port")
    return ServiceSettings(
        name=order.service_name,
        source_path=str(spec.get("source_path") or ""),
        build_command=str(spec.get("build_command") or ""),
        start_command=str(spec.get("start_command") or ""),
        dockerfile_path=str(spec.get("dockerfile_path") or ""),
        port=int(port) if port else None,
        health_check_path=str(spec.get("health_check_path") or ""),
        build_variables=dict(spec.get("build_variables") or {}),
    )


def _memory_limit_mb(spec: Mapping[str, Any]) -> int | None:
    text = str(spec.get("memory_limit") or "")
    try:
        return platform.memory_bytes(text) // 2**20 if text else None
    except ValueError:
        return None


class LocalRunner:
    """Carries deployments out on this machine; see the module docstring.

    Invariant: a deployment id is in `_launching` from `start` until its LocalDeployment
    exists; a run record with `"runtime": "local"` is observed from the runtime, any other
    from the simulation.
    """

    def __init__(
        self, config: EmulatorConfig, root: Path, *, router_port: int = 0, temporary: bool = False
    ) -> None:
        self.config = config
        self.temporary = temporary
        self.simulated = SimulatedRunner(config)
        self.runtime = LocalRuntime(root, router_port=router_port)
        self.runtime.start()
        self._ctx: Context | None = None
        self._launching: dict[str, LogStream] = {}
        self._launch_errors: dict[str, str] = {}
        self._provisioning: set[str] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()

    # -- wiring ---------------------------------------------------------------------------
    def bind(self, ctx: Context) -> None:
        """Called once the emulator's context exists: start the last successful releases
        again and keep the router's host names in step with the domains table."""
        self._ctx = ctx
        self.runtime.router.on_miss = self.sync_hosts
        threading.Thread(target=self._restore, name="runtime-restore", daemon=True).start()
        threading.Thread(target=self._sync, name="runtime-sync", daemon=True).start()

    def close(self) -> None:
        """Stop every app and database this runner started (and forget a temporary folder)."""
        self._stop.set()
        self.runtime.shutdown()
        if self.temporary:
            shutil.rmtree(self.runtime.root, ignore_errors=True)

    @property
    def router_port(self) -> int:
        return self.runtime.router.port

    # -- DeploymentRunner -----------------------------------------------------------------
    def start(self, order: DeploymentOrder) -> dict[str, Any]:
        if not order.source_root:
            return self.simulated.start(order)
        settings = _settings(order)
        source = Path(order.source_root) / settings.source_path
        missing = self.runtime.unsupported_reason(source, settings)
        if missing is not None:
            run = self.simulated.start(order)
            run["local_fallback"] = missing
            return run
        log = LogStream()
        log.write("Deployment queued on the local runtime", phase="pending")
        with self._lock:
            self._launching[order.deployment_id] = log
        threading.Thread(
            target=self._launch, args=(order, source, settings, log), daemon=True
        ).start()
        return {"runtime": "local", "service_id": order.service_id}

    def observe(self, record: DeploymentRecord, now: float) -> Observation:
        if record.run.get("runtime") != "local":
            return observe_simulated(record, now)
        deployment = self.runtime.get(record.id)
        if deployment is None:
            if record.id in self._launching:
                return Observation("pending", 5, None)
            return self._observe_ended(record)
        status = deployment.status
        if status == "superseded":
            status = "success"
        terminal = status in ("success", "failed", "cancelled")
        if record.cancelled_at is not None and not terminal:
            return Observation("cancelled", deployment.progress, record.cancelled_at)
        if status == "success" and record.rolled_back_at is not None:
            status = "rolled_back"
        return Observation(
            status,
            100 if status in ("success", "rolled_back") else _PROGRESS.get(status, 100),
            deployment.completed_at if terminal else None,
            deployment.error if status == "failed" else "",
            deployment.error_phase or "deploying",
        )

    def _observe_ended(self, record: DeploymentRecord) -> Observation:
        if (error := self._launch_errors.get(record.id)) is not None:
            return Observation("failed", 0, record.created_at, error, "pending")
        outcome = self.runtime.outcome(record.id)
        if outcome is None:
            return Observation(
                "failed",
                0,
                record.created_at,
                "Deploy failed: the local gateway stopped before this deployment finished",
                "deploying",
            )
        status = "success" if outcome.status == "superseded" else outcome.status
        if status == "success" and record.rolled_back_at is not None:
            status = "rolled_back"
        return Observation(status, 100, outcome.completed_at, outcome.error, outcome.error_phase)

    def log_lines(self, record: DeploymentRecord, now: float) -> list[LogEntry] | None:
        if record.run.get("runtime") != "local":
            lines = simulated_log_lines(record, now)
            missing = record.run.get("local_fallback")
            if missing and lines is not None:
                note = (
                    f"local runtime: this service cannot run on this machine (missing {missing}); "
                    "its deployment is SIMULATED: nothing was built or started"
                )
                lines.insert(0, _entry(record.created_at, "warn", "pending", note))
            return lines
        deployment = self.runtime.get(record.id)
        stream = deployment.log if deployment else self._launching.get(record.id)
        if stream is None:
            outcome = self.runtime.outcome(record.id)
            text = outcome.error if outcome and outcome.error else "(logs of an earlier run)"
            return [_entry(record.created_at, "info", "deploying", text)]
        return [
            _entry(line.timestamp, line.level, line.phase, line.message) for line in stream.lines()
        ]

    def service_log_lines(self, service_id: str, now: float) -> list[LogEntry] | None:
        """The output of the release serving `service_id` on this machine (its process's
        stdout and stderr, secrets masked), `[]` when the service was deployed here but nothing
        of it serves now, None when it never ran here (a simulated fallback)."""
        serving = self.runtime.current(service_id)
        if serving is None:
            ran_here = any(d.request.service_key == service_id for d in self.runtime.deployments())
            return [] if ran_here else self.simulated.service_log_lines(service_id, now)
        return [
            _entry(line.timestamp, line.level, line.phase, line.message)
            for line in serving.log.lines()
            if line.phase == "runtime"
        ]

    def cancel(self, record: DeploymentRecord, now: float) -> None:
        self.runtime.cancel(record.id)

    def stop(self, deployment_id: str) -> None:
        deployment = self.runtime.get(deployment_id)
        if deployment is not None:
            self.runtime.stop_service(deployment.request.service_key)

    # -- launching ------------------------------------------------------------------------
    def _launch(
        self, order: DeploymentOrder, source: Path, settings: ServiceSettings, log: LogStream
    ) -> None:
        """Read what the deployment needs from the store (this waits for the request that
        created it to commit), start its databases, then hand it to the runtime."""
        try:
            env, rollback_of, dependencies = self._read_order(order.deployment_id)
            log.add_secrets(secret_values(env))
            waited = time.monotonic()
            env = self._start_databases(dependencies, env, log)
            if dependencies:
                waited = time.monotonic() - waited
                log.write(f"Dependencies ready after {waited:.2f} s", phase="pending")
            request = DeployRequest(
                deployment_id=order.deployment_id,
                service_key=order.service_id,
                environment=order.environment,
                source_dir=source,
                settings=settings,
                env=env,
                secrets=secret_values(env),
                memory_limit_mb=_memory_limit_mb(order.spec),
                artifact_of=rollback_of
                if rollback_of and self._has_artifact(rollback_of)
                else None,
            )
            deployment = self.runtime.deploy(request)
            for line in log.lines():
                deployment.log.write(line.message, phase=line.phase, level=line.level)
        except Exception as error:  # never leave a deployment pending forever
            self._launch_errors[order.deployment_id] = f"Deploy failed: the local runtime: {error}"
        finally:
            with self._lock:
                self._launching.pop(order.deployment_id, None)

    def _has_artifact(self, deployment_id: str) -> bool:
        return self.runtime.artifact_exists(deployment_id)

    def _read_order(
        self, deployment_id: str
    ) -> tuple[dict[str, str], str | None, list[tuple[str, dict[str, Any]]]]:
        assert self._ctx is not None, "LocalRunner.bind was not called"
        for _ in range(100):
            with self._ctx.store.transaction() as tx:
                row = tx.one("SELECT * FROM deployments WHERE id=?", (deployment_id,))
                if row is not None:
                    service = tx.one("SELECT env FROM services WHERE id=?", (row["service_id"],))
                    deps = tx.all(
                        "SELECT id, data FROM dependencies WHERE project_id=?", (row["project_id"],)
                    )
                    env = json.loads(service["env"]) if service else {}
                    data = json.loads(row["data"])
                    return (
                        env,
                        data.get("rollback_from_id"),
                        [(d["id"], json.loads(d["data"])) for d in deps],
                    )
            time.sleep(0.05)
        raise RuntimeError(f"deployment {deployment_id} was never recorded")

    def _start_databases(
        self,
        dependencies: list[tuple[str, dict[str, Any]]],
        env: dict[str, str],
        log: LogStream,
    ) -> dict[str, str]:
        """Start the project's postgres and redis servers; point the service's connection
        variables (injected by the client from the dependency's env_vars) at them."""
        env = dict(env)
        for dependency_id, data in dependencies:
            kind = _database_kind(data)
            dep_env: dict[str, str] = data.get("env_vars") or {}
            if kind is None:
                note = f"{data.get('type')} dependency {data.get('name')}: simulated (not run here)"
                log.write(note, phase="pending", level="warn")
                continue
            prefix = "POSTGRES" if kind == "postgres" else "REDIS"
            credentials = _credentials(kind, dep_env)
            log.add_secrets([credentials.password])
            try:
                running = self.runtime.databases.ensure(dependency_id, kind, credentials, log)
            except (DatabaseUnavailable, DatabaseFailed) as error:
                log.write(f"{kind} {data.get('name')}: not started here: {error}", phase="pending")
                continue
            host, port = dep_env.get(f"{prefix}_HOST", ""), dep_env.get(f"{prefix}_PORT", "")
            env = _repoint(env, host, port, running.port, f"{prefix}_PORT")
        return env

    # -- restarts and host names -----------------------------------------------------------
    def _sync_databases(self, dependencies: list[tuple[str, dict[str, Any]]]) -> None:
        wanted = {dep_id for dep_id, data in dependencies if _database_kind(data)}
        for dep_id in self.runtime.databases.running_ids():
            if dep_id not in wanted:
                self.runtime.databases.remove(dep_id)
        for dep_id, data in dependencies:
            kind = _database_kind(data)
            if kind is None or dep_id in self._provisioning:
                continue
            if self.runtime.databases.get(dep_id) is not None:
                continue
            self._provisioning.add(dep_id)
            credentials = _credentials(kind, data.get("env_vars") or {})

            def provision(
                dep_id: str = dep_id, kind: str = kind, cred: Credentials = credentials
            ) -> None:
                try:
                    self.runtime.databases.ensure(dep_id, kind, cred, LogStream([cred.password]))
                except (DatabaseUnavailable, DatabaseFailed):
                    pass  # the deployment that needs it reports why
                finally:
                    self._provisioning.discard(dep_id)

            threading.Thread(target=provision, name=f"db-{dep_id[:8]}", daemon=True).start()

    def _restore(self) -> None:
        assert self._ctx is not None
        for release in self.runtime.releases():
            try:
                env, _, dependencies = self._read_order(release.deployment_id)
            except RuntimeError:
                continue
            log = LogStream(secret_values(env))
            env = self._start_databases(dependencies, env, log)
            self.runtime.restore(release, env, secret_values(env))

    def _sync(self) -> None:
        """Keep the router's host names in step with the domains table, the database
        servers with the dependencies table (started as soon as a dependency exists, removed
        with their data when it is deleted), and running releases with their services'
        memory limits."""
        while not self._stop.wait(_SYNC_SECONDS):
            try:
                self.sync_hosts()
                ctx = self._ctx
                if ctx is not None:
                    with ctx.store.transaction() as tx:
                        deps = tx.all("SELECT id, data FROM dependencies")
                    self._sync_databases([(d["id"], json.loads(d["data"])) for d in deps])
                self.sync_memory_limits()
            except Exception:  # the store is closing: the gateway is stopping
                return

    def sync_memory_limits(self) -> None:
        """Enforce a service's memory limit as soon as it changes (a resize without a
        redeploy), on its running release."""
        ctx, keys = self._ctx, self.runtime.running_services()
        if ctx is None or not keys:
            return
        with ctx.store.transaction() as tx:
            rows = tx.all(
                f"SELECT id, spec FROM services WHERE id IN ({','.join('?' * len(keys))})", keys
            )
        for row in rows:
            self.runtime.resize(row["id"], _memory_limit_mb(json.loads(row["spec"])))

    def sync_hosts(self) -> None:
        """Give each service the host names of its domain rows (also the router's refresh
        for an unknown host, so a subdomain renamed a moment ago answers at once)."""
        ctx = self._ctx
        if ctx is None:
            return
        with ctx.store.transaction() as tx:
            rows = tx.all("SELECT service_id, prefix, environment FROM domains")
        hosts: dict[str, list[tuple[str, str]]] = {}
        for row in rows:
            if row["prefix"]:
                hosts.setdefault(row["service_id"], []).append((row["prefix"], row["environment"]))
        for service_id, names in hosts.items():
            self.runtime.set_hosts(service_id, names)


def _database_kind(data: Mapping[str, Any]) -> str | None:
    kind = str(data.get("type", ""))
    return kind if kind in ("postgres", "redis") else None


def _credentials(kind: str, dep_env: Mapping[str, str]) -> Credentials:
    prefix = "POSTGRES" if kind == "postgres" else "REDIS"
    return Credentials(
        dep_env.get("POSTGRES_USER", "default"),
        dep_env.get(f"{prefix}_PASSWORD", ""),
        dep_env.get("POSTGRES_DB", "0"),
    )


def _repoint(
    env: dict[str, str], host: str, port: str, local_port: int, port_key: str
) -> dict[str, str]:
    """Replace `host:port` (and a bare host or port variable) by 127.0.0.1:`local_port`."""
    if not host:
        return env
    out = {}
    for key, value in env.items():
        if port and f"{host}:{port}" in value:
            value = value.replace(f"{host}:{port}", f"127.0.0.1:{local_port}")
        elif value == host:
            value = "127.0.0.1"
        elif key == port_key and value == port:
            value = str(local_port)
        out[key] = value
    return out


def _entry(at: float, level: str, phase: str, message: str) -> LogEntry:
    return (at, {"timestamp": ts(at), "level": level, "phase": phase, "message": message})
