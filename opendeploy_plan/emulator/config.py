"""Configuration of the local gateway: storage, timings of the simulated platform, faults."""

from __future__ import annotations

from dataclasses import dataclass

from opendeploy_plan.emulator.clock import Clock

PROFILES = ("default", "documented")
RUNTIMES = ("simulate", "local", "auto")


@dataclass
class EmulatorConfig:
    """Everything `create_app` needs. Durations are in (clock) seconds.

    `db_path` is `":memory:"` or a SQLite file; uploads and extracted sources live in `data_dir`
    (default: `<db_path>.files/`, or a temporary directory for `:memory:`).
    """

    db_path: str = ":memory:"
    # What the gateway answers with: "default" (everything the emulator knows) or
    # "documented" (only what the seed's documents promise; see documented.py).
    profile: str = "default"
    # The API base URL the register answer echoes as `gateway` (clients must use it).
    public_url: str = "http://127.0.0.1:8787/api"
    data_dir: str | None = None
    # Deployment phases (pending -> [analyzing] -> building -> deploying -> success).
    pending_seconds: float = 1.0
    analyze_seconds: float = 5.0
    build_seconds: float = 8.0
    deploy_seconds: float = 4.0
    # A deployment of a project without source fails this soon (the playbook's "< 2 s").
    instant_fail_seconds: float = 0.5
    dependency_ready_seconds: float = 3.0
    auto_domain_delay_seconds: float = 2.0
    domain_reconcile_seconds: float = 2.0
    # Parked uploads are garbage-collected after this long (update-source then 400s).
    upload_ttl_seconds: float = 3600.0
    # Caps on what a client may send (docs/emulator.md, "Hardening"); each is a 400.
    max_extracted_bytes: int = 1024**3
    max_upload_bytes: int = 512 * 1024**2
    max_archive_entries: int = 20_000
    max_compression_ratio: int = 200
    max_json_body_bytes: int = 8 * 1024**2
    # Faults applied to every /api route: added latency and a random 5xx rate.
    latency_ms: int = 0
    fail_rate: float = 0.0
    seed: int | None = None
    clock: Clock | None = None
    admin_enabled: bool = True
    # The /_emulator/ admin API needs `Authorization: Bearer <admin_token>` (None: create_app
    # draws one, see `app.state.admin_token`) unless `admin_open` says anyone local may use it.
    admin_token: str | None = None
    admin_open: bool = False
    trust_forwarded_for: bool = False
    # Who carries deployments out: "simulate" (the clock-scripted platform), "local" (real
    # builds and processes on this machine, see docs/runtime.md) or "auto" (local where the
    # tools exist). `runtime_dir` holds builds, caches and database data; `router_port` is
    # the port serving every service by host name (0 picks one).
    runtime: str = "simulate"
    runtime_dir: str | None = None
    router_port: int = 0

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            raise ValueError(f"unknown runtime {self.runtime!r}: use one of {', '.join(RUNTIMES)}")
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}: use one of {', '.join(PROFILES)}")
