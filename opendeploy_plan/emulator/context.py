"""The shared context every resource module works over: configuration, clock, SQLite store,
data folder, seeded randomness and the deployment runner. Built once per `Emulator`."""

from __future__ import annotations

import random
import secrets
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opendeploy_plan.emulator.clock import Clock, SystemClock
from opendeploy_plan.emulator.config import EmulatorConfig
from opendeploy_plan.emulator.runner import (
    DeploymentRecord,
    DeploymentRunner,
    LogEntry,
    Observation,
    SimulatedRunner,
)
from opendeploy_plan.emulator.store import Sealed, Store

# Seeded regions (stable ids so a file database survives restarts with the same ids).
SEED_REGIONS = (
    ("US East", "us-east-1", "active", "production"),
    ("EU West", "eu-west-1", "active", "staging"),
    ("AP South", "ap-south-1", "inactive", "production"),
)


@dataclass
class Context:
    """What the resource modules share. `config` is the caller's object (tests change
    `public_url` after the server has bound its port)."""

    config: EmulatorConfig
    clock: Clock
    store: Store
    data_dir: Path
    rng: random.Random
    runner: DeploymentRunner
    bind_secret: bytes = b""
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    def now(self) -> float:
        return self.clock.now()

    def observe(self, row: Any) -> Observation:
        """A stored deployment row as its runner sees it now."""
        return self.runner.observe(DeploymentRecord.from_row(row), self.now())

    def log_lines(self, row: Any) -> list[LogEntry] | None:
        return self.runner.log_lines(DeploymentRecord.from_row(row), self.now())

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    def project_dir(self, project_id: str) -> Path:
        return self.data_dir / "projects" / project_id


def open_context(config: EmulatorConfig, runner: DeploymentRunner | None = None) -> Context:
    """Open the store (seeding the bind secret and regions once) and the data folder."""
    clock: Clock = config.clock or SystemClock()
    store = Store(config.db_path)
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if config.data_dir:
        data_dir = Path(config.data_dir)
    elif config.db_path == ":memory:":
        tmp = tempfile.TemporaryDirectory(prefix="odplan-gateway-")
        data_dir = Path(tmp.name)
    else:
        data_dir = Path(config.db_path + ".files")
    # Uploaded and extracted sources are the user's: private to the gateway's user.
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    data_dir.chmod(0o700)
    (data_dir / "uploads").mkdir(parents=True, exist_ok=True)
    (data_dir / "projects").mkdir(parents=True, exist_ok=True)
    with store.transaction() as tx:
        if tx.one("SELECT value FROM meta WHERE key='bind_secret'") is None:
            tx.execute(
                "INSERT INTO meta VALUES ('bind_secret', ?)", (Sealed(secrets.token_hex(32)),)
            )
        if tx.one("SELECT 1 FROM regions") is None:
            for position, (name, code, status, env) in enumerate(SEED_REGIONS):
                rid = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{code}.regions.opendeploy.local"))
                tx.execute(
                    "INSERT INTO regions VALUES (?,?,?,?,?,?)",
                    (rid, name, code, status, env, position),
                )
        secret_row = tx.one("SELECT value FROM meta WHERE key='bind_secret'")
        assert secret_row is not None
        bind_secret = bytes.fromhex(secret_row["value"])
    return Context(
        config=config,
        clock=clock,
        store=store,
        data_dir=data_dir,
        rng=random.Random(config.seed),
        runner=runner or SimulatedRunner(config),
        bind_secret=bind_secret,
        _tmp=tmp,
    )
