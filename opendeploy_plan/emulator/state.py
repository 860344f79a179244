"""The simulated platform: tenants, projects, services, dependencies, uploads, deployments and
domains over the SQLite store. Routes call these methods; nothing here knows about HTTP except
the `ApiError`s it raises, which carry the documented status and body."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import posixpath
import random
import secrets
import shutil
import string
import tempfile
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opendeploy_plan import platform
from opendeploy_plan.emulator import lifecycle
from opendeploy_plan.emulator.clock import Clock, SystemClock
from opendeploy_plan.emulator.config import EmulatorConfig
from opendeploy_plan.emulator.errors import ApiError, not_found
from opendeploy_plan.emulator.store import Store, Transaction

BASE62 = string.digits + string.ascii_letters
DEFAULT_GUEST_NAME = "opendeploy local deploy"
GC_INTERVAL_SECONDS = 60.0

# Seeded regions (stable ids so a file database survives restarts with the same ids).
SEED_REGIONS = (
    ("US East", "us-east-1", "active", "production"),
    ("EU West", "eu-west-1", "active", "staging"),
    ("AP South", "ap-south-1", "inactive", "production"),
)

DEFAULT_RESOURCES = {
    "guest": {
        "cpu_request": "500m",
        "cpu_limit": "1",
        "memory_request": "512Mi",
        "memory_limit": "1Gi",
    },
    "user": {
        "cpu_request": "500m",
        "cpu_limit": "2",
        "memory_request": "1Gi",
        "memory_limit": "4Gi",
    },
}

PLAN_QUOTAS = {
    "free": {"projects": 3, "services": 3, "custom_domains": 0},
    "pro": {"projects": 50, "services": 20, "custom_domains": 10},
    "none": {"projects": 0, "services": 0, "custom_domains": 0},
}

DEPENDENCY_PORTS = {
    "postgres": 5432,
    "mysql": 3306,
    "mongodb": 27017,
    "redis": 6379,
    "clickhouse": 8123,
}
STRATEGIES = ("rolling", "recreate", "blue_green", "canary")
VERSION_TYPES = ("major", "minor", "patch")


def rfc3339(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ts(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise ApiError(400, f"invalid since timestamp {text!r}: use RFC3339") from exc


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(kind: str) -> str:
    return f"od_{kind}" + "".join(secrets.choice(BASE62) for _ in range(platform.TOKEN_BODY_CHARS))


@dataclass(frozen=True)
class Principal:
    """Who is calling: a dashboard user, or a guest credential (pending, or bound to a user)."""

    kind: str
    user_id: str | None
    guest_id: str | None

    @property
    def is_guest_tier(self) -> bool:
        return self.user_id is None

    @property
    def tenant(self) -> str:
        return f"user:{self.user_id}" if self.user_id else f"guest:{self.guest_id}"


@dataclass
class DeploymentFault:
    """A forced outcome for the next matching deployments (admin API)."""

    mode: str  # "fail" or "stall"
    phase: str  # fail: "build" | "deploy"; stall: "analyzing" | "building" | "deploying"
    service: str | None = None
    logs: tuple[str, ...] = ()
    error_msg: str = ""
    remaining: int | None = 1
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


DEPLOYMENT_FAULT_PHASES = {
    "fail": ("build", "deploy"),
    "stall": ("analyzing", "building", "deploying"),
}


def deployment_fault_from_spec(text: str) -> DeploymentFault:
    """`mode=fail,phase=build,service=web,log=npm ERR! x,error=...,count=1` (CLI `--build-fault`).

    `log` may repeat (`log=a,log=b` is not possible with a dict, so lines are split on `|`).
    """
    from opendeploy_plan.emulator.faults import parse_spec

    fields = parse_spec(text)
    unknown = set(fields) - {"mode", "phase", "service", "log", "error", "count"}
    if unknown:
        raise ValueError(f"unknown build-fault field(s): {', '.join(sorted(unknown))}")
    mode = fields.get("mode", "fail")
    phase = fields.get("phase", "build")
    if mode not in DEPLOYMENT_FAULT_PHASES or phase not in DEPLOYMENT_FAULT_PHASES[mode]:
        raise ValueError(f"mode/phase must be one of {DEPLOYMENT_FAULT_PHASES}")
    count = fields.get("count")
    return DeploymentFault(
        mode=mode,
        phase=phase,
        service=fields.get("service") or None,
        logs=tuple(x for x in fields.get("log", "").split("|") if x),
        error_msg=fields.get("error", ""),
        remaining=None if count in (None, "", "unlimited") else int(count),
    )


class Emulator:
    """The platform's state and rules. Thread-safe: every method runs in one store transaction."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock: Clock = config.clock or SystemClock()
        self.store = Store(config.db_path)
        if config.data_dir:
            self.data_dir = Path(config.data_dir)
        elif config.db_path == ":memory:":
            self._tmp = tempfile.TemporaryDirectory(prefix="odplan-gateway-")
            self.data_dir = Path(self._tmp.name)
        else:
            self.data_dir = Path(config.db_path + ".files")
        (self.data_dir / "uploads").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "projects").mkdir(parents=True, exist_ok=True)
        self.rng = random.Random(config.seed)
        self.deployment_faults: list[DeploymentFault] = []
        self._faults_lock = threading.Lock()
        self._last_gc = -math.inf
        with self.store.transaction() as tx:
            row = tx.one("SELECT value FROM meta WHERE key='bind_secret'")
            if row is None:
                tx.execute("INSERT INTO meta VALUES ('bind_secret', ?)", (secrets.token_hex(32),))
            if tx.one("SELECT 1 FROM regions") is None:
                for position, (name, code, status, env) in enumerate(SEED_REGIONS):
                    rid = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{code}.regions.opendeploy.local"))
                    tx.execute(
                        "INSERT INTO regions VALUES (?,?,?,?,?,?)",
                        (rid, name, code, status, env, position),
                    )
            secret_row = tx.one("SELECT value FROM meta WHERE key='bind_secret'")
            assert secret_row is not None
            self._bind_secret = bytes.fromhex(secret_row["value"])

    def now(self) -> float:
        return self.clock.now()

    def durations(self) -> lifecycle.Durations:
        c = self.config
        return lifecycle.Durations(
            c.pending_seconds,
            c.analyze_seconds,
            c.build_seconds,
            c.deploy_seconds,
            c.instant_fail_seconds,
        )

    # --- tokens, users, guests ----------------------------------------------------------

    def mint_dashboard_token(
        self, user_id: str | None = None, email: str | None = None, plan: str = "pro"
    ) -> str:
        """A fresh `od_k` token. A new user unless `user_id` is given (one active per user)."""
        now = self.now()
        token = _new_token(platform.DASHBOARD_TOKEN_KIND)
        with self.store.transaction() as tx:
            if user_id is None or tx.one("SELECT 1 FROM users WHERE id=?", (user_id,)) is None:
                user_id = self._create_user(tx, user_id, email, plan)
            tx.execute("UPDATE tokens SET revoked=1 WHERE kind='k' AND user_id=?", (user_id,))
            tx.execute(
                "INSERT INTO tokens VALUES (?,?,?,?,?,0)", (_hash(token), "k", user_id, None, now)
            )
        return token

    def user_of_token(self, token: str) -> str | None:
        with self.store.transaction() as tx:
            row = tx.one("SELECT user_id FROM tokens WHERE hash=? AND revoked=0", (_hash(token),))
            return None if row is None else row["user_id"]

    def _create_user(
        self, tx: Transaction, user_id: str | None, email: str | None, plan: str
    ) -> str:
        if plan not in PLAN_QUOTAS:
            raise ApiError(400, f"unknown plan {plan!r}")
        uid = user_id or str(uuid.uuid4())
        tx.execute(
            "INSERT INTO users VALUES (?,?,?,?,?,?)",
            (
                uid,
                email or f"user-{uid[:8]}@example.com",
                f"user {uid[:8]}",
                plan,
                json.dumps(PLAN_QUOTAS[plan]),
                self.now(),
            ),
        )
        return uid

    def set_user_plan(self, user_id: str, plan: str | None, quota: dict[str, int]) -> None:
        with self.store.transaction() as tx:
            row = tx.one("SELECT * FROM users WHERE id=?", (user_id,))
            if row is None:
                raise not_found("user")
            quotas = json.loads(row["quota"])
            if plan is not None:
                if plan not in PLAN_QUOTAS:
                    raise ApiError(400, f"unknown plan {plan!r}")
                quotas = dict(PLAN_QUOTAS[plan])
            quotas.update(quota)
            tx.execute(
                "UPDATE users SET plan=?, quota=? WHERE id=?",
                (plan or row["plan"], json.dumps(quotas), user_id),
            )

    def authenticate(self, authorization: str | None) -> Principal:
        """Resolve a Bearer header to a principal, or raise the documented 401."""
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError(401, "missing or malformed Authorization header: use Bearer od_*")
        token = authorization.removeprefix("Bearer ").strip()
        kind = platform.token_kind(token)
        if kind is None:
            raise ApiError(401, "invalid API key")
        self.maybe_run_gc()
        with self.store.transaction() as tx:
            row = tx.one(
                "SELECT * FROM tokens WHERE hash=? AND kind=? AND revoked=0", (_hash(token), kind)
            )
            if row is None:
                raise ApiError(401, "invalid or expired API key")
            if kind == platform.DASHBOARD_TOKEN_KIND:
                return Principal("dashboard", row["user_id"], None)
            guest = tx.one("SELECT * FROM guests WHERE id=?", (row["guest_id"],))
            if guest is None or guest["state"] == "revoked":
                raise ApiError(401, "invalid or expired API key")
            return Principal("guest", guest["bound_user_id"], guest["id"])

    def bind_sig(self, guest_id: str) -> str:
        return hmac.new(self._bind_secret, guest_id.encode(), hashlib.sha256).hexdigest()

    def register(self, ip: str, user_agent: str, body: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        name = (body.get("name") or "").strip() or DEFAULT_GUEST_NAME
        if len(name) > 64:
            raise ApiError(400, "name must be at most 64 characters", error_code="name_too_long")
        with self.store.transaction() as tx:
            recent = tx.all(
                "SELECT at FROM register_log WHERE ip=? AND at>? ORDER BY at",
                (ip, now - 3600),
            )
            if len(recent) >= platform.REGISTER_LIMIT_PER_HOUR:
                wait = max(1, math.ceil(recent[0]["at"] + 3600 - now))
                raise ApiError(
                    429,
                    "rate limit exceeded: at most 5 registrations per hour per IP",
                    headers={"Retry-After": str(wait)},
                    retry_after_seconds=wait,
                )
            tx.execute("DELETE FROM register_log WHERE at<=?", (now - 3600,))
            tx.execute("INSERT INTO register_log VALUES (?,?)", (ip, now))
            replay = tx.one(
                "SELECT * FROM guests WHERE source_ip=? AND user_agent=? AND state='pending' "
                "AND created_at>? ORDER BY created_at DESC",
                (ip, user_agent, now - platform.REGISTER_REPLAY_SECONDS),
            )
            api_key: str | None = None
            if replay is not None:
                guest_id, name = replay["id"], replay["name"]
            else:
                guest_id = str(uuid.uuid4())
                api_key = _new_token(platform.GUEST_TOKEN_KIND)
                tx.execute(
                    "INSERT INTO guests VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        guest_id,
                        name,
                        (body.get("hostname") or "")[:255],
                        api_key[:8],
                        ip,
                        user_agent,
                        "pending",
                        None,
                        None,
                        now,
                        None,
                    ),
                )
                tx.execute(
                    "INSERT INTO tokens VALUES (?,?,?,?,?,0)",
                    (_hash(api_key), "a", None, guest_id, now),
                )
        sig = self.bind_sig(guest_id)
        result: dict[str, Any] = {
            "guest_id": guest_id,
            "gateway": self.config.public_url,
            "bind_sig": sig,
            "name": name,
            "bind_url": platform.bind_url(self.config.public_url, guest_id, sig),
            "expires_in_seconds": platform.GUEST_IDLE_GC_SECONDS,
        }
        if api_key is not None:
            result["api_key"] = api_key
        return result

    def _guest_row(self, tx: Transaction, guest_id: str) -> Any:
        row = tx.one("SELECT * FROM guests WHERE id=?", (guest_id,))
        if row is None:
            raise not_found("guest credential")
        return row

    def _guest_view(self, row: Any) -> dict[str, Any]:
        horizon = row["last_deployed_at"] or row["created_at"]
        return {
            "guest_id": row["id"],
            "state": row["state"],
            "name": row["name"],
            "hostname": row["hostname"],
            "prefix": row["prefix"],
            "created_at": _ts(row["created_at"]),
            "last_deployed_at": rfc3339(row["last_deployed_at"]),
            "expires_at": None
            if row["state"] != "pending"
            else _ts(horizon + platform.GUEST_IDLE_GC_SECONDS),
            "bound_at": rfc3339(row["bound_at"]),
            "source_ip": row["source_ip"],
            "source_user_agent": row["user_agent"],
        }

    def guest_status(self, guest_id: str, sig: str) -> dict[str, Any]:
        if not hmac.compare_digest(sig.encode(), self.bind_sig(guest_id).encode()):
            raise ApiError(401, "invalid bind signature")
        with self.store.transaction() as tx:
            return self._guest_view(self._guest_row(tx, guest_id))

    def bind_guest(
        self,
        guest_id: str,
        user_id: str | None = None,
        sig: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """What the dashboard does after SSO: the guest and its projects move to the user."""
        if sig is not None and not hmac.compare_digest(
            sig.encode(), self.bind_sig(guest_id).encode()
        ):
            raise ApiError(401, "invalid bind signature")
        now = self.now()
        with self.store.transaction() as tx:
            row = self._guest_row(tx, guest_id)
            if row["state"] == "revoked":
                raise ApiError(409, "guest credential was revoked")
            if user_id is None:
                user_id = self._create_user(tx, None, None, "free")
            if row["state"] == "bound" and row["bound_user_id"] != user_id:
                raise ApiError(409, "guest credential is already bound to another account")
            label = (name or "").strip()[:64] or row["name"]
            bound_at = row["bound_at"] or now
            tx.execute(
                "UPDATE guests SET state='bound', bound_user_id=?, bound_at=?, name=? WHERE id=?",
                (user_id, bound_at, label, guest_id),
            )
            tx.execute(
                "UPDATE projects SET tenant=? WHERE tenant=?",
                (f"user:{user_id}", f"guest:{guest_id}"),
            )
            ids = [r["id"] for r in tx.all("SELECT id FROM projects WHERE guest_id=?", (guest_id,))]
        return {
            "guest_id": guest_id,
            "bound_at": _ts(bound_at),
            "name": label,
            "project_ids": ids,
            "user_id": user_id,
        }

    def list_guests(self, who: Principal) -> list[dict[str, Any]]:
        with self.store.transaction() as tx:
            rows = tx.all(
                "SELECT * FROM guests WHERE bound_user_id=? AND state='bound' ORDER BY created_at",
                (self._require_user(who),),
            )
            return [self._guest_view(r) for r in rows]

    def _require_user(self, who: Principal) -> str:
        if who.user_id is None:
            raise ApiError(401, "this endpoint needs a dashboard session")
        return who.user_id

    def _owned_guest(self, tx: Transaction, who: Principal, guest_id: str) -> Any:
        uid = self._require_user(who)
        row = self._guest_row(tx, guest_id)
        if row["bound_user_id"] != uid:
            raise ApiError(403, "not your guest credential")
        return row

    def patch_guest(self, who: Principal, guest_id: str, name: str | None) -> dict[str, Any]:
        label = (name or "").strip()
        if not label:
            raise ApiError(400, "name is required", error_code="name_required")
        if len(label) > 64:
            raise ApiError(400, "name must be at most 64 characters", error_code="name_too_long")
        with self.store.transaction() as tx:
            self._owned_guest(tx, who, guest_id)
            tx.execute("UPDATE guests SET name=? WHERE id=?", (label, guest_id))
            return self._guest_view(self._guest_row(tx, guest_id))

    def delete_guest(self, who: Principal, guest_id: str) -> dict[str, Any]:
        with self.store.transaction() as tx:
            self._owned_guest(tx, who, guest_id)
            tx.execute("UPDATE guests SET state='revoked' WHERE id=?", (guest_id,))
            tx.execute("UPDATE tokens SET revoked=1 WHERE guest_id=?", (guest_id,))
        return {"guest_id": guest_id, "state": "revoked"}

    def profile(self, who: Principal) -> dict[str, Any]:
        if who.user_id is None:
            raise ApiError(401, "local deploy credential is not linked to an account")
        with self.store.transaction() as tx:
            row = tx.one("SELECT * FROM users WHERE id=?", (who.user_id,))
            if row is None:
                raise ApiError(401, "invalid or expired API key")
            return {
                "id": row["id"],
                "email": row["email"],
                "name": row["name"],
                "plan": row["plan"],
                "created_at": _ts(row["created_at"]),
            }

    def quota(self, who: Principal) -> dict[str, Any]:
        self.require_bound(who)
        with self.store.transaction() as tx:
            user = tx.one("SELECT * FROM users WHERE id=?", (who.user_id,))
            assert user is not None
            limits = json.loads(user["quota"])
            used = self._usage(tx, who.tenant)
            return {
                "plan": user["plan"],
                "quotas": [
                    {"name": k, "limit": v, "used": used.get(k, 0)} for k, v in limits.items()
                ],
            }

    def _usage(self, tx: Transaction, tenant: str) -> dict[str, int]:
        projects = tx.all("SELECT id FROM projects WHERE tenant=?", (tenant,))
        ids = [p["id"] for p in projects]
        marks = ",".join("?" * len(ids)) or "NULL"
        services = tx.one(f"SELECT count(*) AS n FROM services WHERE project_id IN ({marks})", ids)
        domains = tx.one(
            f"SELECT count(*) AS n FROM domains WHERE type='custom' AND project_id IN ({marks})",
            ids,
        )
        return {
            "projects": len(ids),
            "services": services["n"] if services else 0,
            "custom_domains": domains["n"] if domains else 0,
        }

    def require_bound(self, who: Principal) -> None:
        if who.is_guest_tier:
            raise ApiError(
                403,
                "bind_required: link this local deploy credential to an account first",
                error_code="bind_required",
            )

    def _check_quota(self, tx: Transaction, who: Principal, name: str, adding: int = 1) -> None:
        if who.user_id is None:
            return
        user = tx.one("SELECT * FROM users WHERE id=?", (who.user_id,))
        if user is None:
            return
        if user["plan"] == "none":
            raise ApiError(
                403,
                "subscription required: no active subscription",
                error_code="subscription_required",
            )
        limit = json.loads(user["quota"]).get(name)
        used = self._usage(tx, who.tenant).get(name, 0)
        if limit is not None and used + adding > limit:
            raise ApiError(
                403,
                f"quota exceeded: {name} ({used}/{limit})",
                error_code="quota_exceeded",
                quota=name,
                limit=limit,
                used=used,
            )

    # --- GC ---------------------------------------------------------------------------------

    def maybe_run_gc(self) -> None:
        now = self.now()
        if now - self._last_gc >= GC_INTERVAL_SECONDS:
            self.run_gc()

    def run_gc(self) -> dict[str, list[str]]:
        """Tear down guest projects idle for 6 h, and never-used pending credentials."""
        now = self.now()
        self._last_gc = now
        horizon = now - platform.GUEST_IDLE_GC_SECONDS
        with self.store.transaction() as tx:
            stale = tx.all(
                "SELECT p.id FROM projects p JOIN guests g ON p.guest_id=g.id "
                "WHERE p.tenant='guest:' || g.id AND g.state='pending' AND p.last_activity_at<?",
                (horizon,),
            )
            project_ids = [r["id"] for r in stale]
            for pid in project_ids:
                self._delete_project_rows(tx, pid)
            idle = tx.all(
                "SELECT id FROM guests WHERE state='pending' AND last_deployed_at IS NULL "
                "AND created_at<?",
                (horizon,),
            )
            guest_ids = [r["id"] for r in idle]
            for gid in guest_ids:
                for row in tx.all("SELECT id FROM projects WHERE guest_id=?", (gid,)):
                    self._delete_project_rows(tx, row["id"])
                tx.execute("DELETE FROM tokens WHERE guest_id=?", (gid,))
                tx.execute("DELETE FROM guests WHERE id=?", (gid,))
        for pid in project_ids:
            shutil.rmtree(self.data_dir / "projects" / pid, ignore_errors=True)
        return {"deleted_projects": project_ids, "deleted_guests": guest_ids}

    # --- regions, projects -----------------------------------------------------------------

    def regions(self) -> list[dict[str, Any]]:
        with self.store.transaction() as tx:
            rows = tx.all("SELECT * FROM regions ORDER BY position")
        return [{k: r[k] for k in ("id", "name", "code", "status", "environment")} for r in rows]

    def set_region_status(self, region_id: str, status: str) -> None:
        if status not in ("active", "inactive"):
            raise ApiError(400, "status must be active or inactive")
        with self.store.transaction() as tx:
            if not tx.execute("UPDATE regions SET status=? WHERE id=?", (status, region_id)):
                raise not_found("region")

    def add_git_repo(self, url: str, data: dict[str, Any]) -> None:
        with self.store.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO git_repos VALUES (?,?)", (url, json.dumps(data)))

    def _validate_git(
        self, tx: Transaction, url: str, branch: str | None, token: str | None
    ) -> str:
        row = tx.one("SELECT data FROM git_repos WHERE url=?", (url,))
        if row is None:
            raise ApiError(
                400,
                "Git validation failed: repository not found or not reachable",
                error_code="repository_not_found",
                error_message=f"could not read {url}",
            )
        repo = json.loads(row["data"])
        if repo.get("private") and not token:
            raise ApiError(
                400,
                "Git validation failed: authentication required",
                error_code="authentication_failed",
                error_message="the repository is private; pass a token",
            )
        branches = list(repo.get("branches") or ["main"])
        default = str(repo.get("default_branch") or branches[0])
        if branch and branch not in branches:
            raise ApiError(
                400,
                f"Git validation failed: branch {branch!r} not found",
                error_code="branch_not_found",
                error_message=f"branch {branch!r} does not exist",
                available_branches=branches,
                default_branch=default,
            )
        return branch or default

    def _project_view(self, row: Any) -> dict[str, Any]:
        data = json.loads(row["data"])
        return {
            "id": row["id"],
            "name": row["name"],
            **data,
            "status": "active",
            "created_at": _ts(row["created_at"]),
            "updated_at": _ts(row["updated_at"]),
        }

    def _project_row(self, tx: Transaction, who: Principal, project_id: str) -> Any:
        row = tx.one("SELECT * FROM projects WHERE id=?", (project_id,))
        if row is None:
            raise not_found("project")
        if row["tenant"] != who.tenant:
            raise ApiError(403, "forbidden: this project belongs to another account")
        return row

    def _active_region(self, tx: Transaction, region_id: str | None, error: str) -> str:
        if region_id:
            row = tx.one("SELECT * FROM regions WHERE id=?", (region_id,))
            if row is None or row["status"] != "active":
                raise ApiError(400, error)
            return str(row["id"])
        row = tx.one("SELECT id FROM regions WHERE status='active' ORDER BY position")
        if row is None:
            raise ApiError(400, "no active region")
        return str(row["id"])

    def create_project(self, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
        name = body["name"]
        if not platform.is_dns_label(name):
            raise ApiError(400, f"invalid project name {name!r}: use a lowercase DNS label")
        now = self.now()
        with self.store.transaction() as tx:
            region_id = self._active_region(tx, body.get("region_id"), "region not found")
            branch = body.get("branch") or ""
            if not body.get("skip_validation"):
                branch = self._validate_git(tx, body["repo_url"], branch, body.get("token"))
            if who.is_guest_tier:
                live = tx.one("SELECT id FROM projects WHERE tenant=?", (who.tenant,))
                if live is not None:
                    raise ApiError(
                        409,
                        "a local deploy credential not linked to an account may own one live "
                        "project at a time",
                        project_id=live["id"],
                    )
            else:
                self._check_quota(tx, who, "projects")
            if tx.one("SELECT 1 FROM projects WHERE tenant=? AND name=?", (who.tenant, name)):
                raise ApiError(409, f"project name {name!r} already exists")
            pid = str(uuid.uuid4())
            data = {
                "repo_url": body["repo_url"],
                "branch": branch,
                "region_id": region_id,
                "description": body.get("description") or "",
                "skip_validation": bool(body.get("skip_validation")),
                "build_config": body.get("build_config") or "",
                "deploy_config": body.get("deploy_config") or "",
                "source_path": "",
                "original_file_path": "",
                "analyze_config": None,
            }
            tx.execute(
                "INSERT INTO projects VALUES (?,?,?,?,?,?,?,?)",
                (
                    pid,
                    who.tenant,
                    who.guest_id if who.is_guest_tier else None,
                    name,
                    json.dumps(data),
                    now,
                    now,
                    now,
                ),
            )
            row = tx.one("SELECT * FROM projects WHERE id=?", (pid,))
            return self._project_view(row)

    def list_projects(self, who: Principal) -> list[dict[str, Any]]:
        with self.store.transaction() as tx:
            rows = tx.all(
                "SELECT * FROM projects WHERE tenant=? ORDER BY created_at, name", (who.tenant,)
            )
            return [self._project_view(r) for r in rows]

    def get_project(self, who: Principal, project_id: str) -> dict[str, Any]:
        with self.store.transaction() as tx:
            return self._project_view(self._project_row(tx, who, project_id))

    def delete_project(self, who: Principal, project_id: str) -> None:
        with self.store.transaction() as tx:
            self._project_row(tx, who, project_id)
            self._delete_project_rows(tx, project_id)
        shutil.rmtree(self.data_dir / "projects" / project_id, ignore_errors=True)

    def _delete_project_rows(self, tx: Transaction, project_id: str) -> None:
        for table in ("services", "deployments", "dependencies", "domains"):
            tx.execute(f"DELETE FROM {table} WHERE project_id=?", (project_id,))
        tx.execute("DELETE FROM projects WHERE id=?", (project_id,))

    def _touch_project(self, tx: Transaction, project_id: str) -> None:
        now = self.now()
        tx.execute("UPDATE projects SET updated_at=? WHERE id=?", (now, project_id))

    # --- services ---------------------------------------------------------------------------

    def _check_env(self, variables: dict[str, str]) -> None:
        for key, value in variables.items():
            if not key or "=" in key:
                raise ApiError(400, f"invalid variable name {key!r}", field="variables")
            if len(key) > platform.ENV_KEY_MAX_CHARS:
                raise ApiError(
                    400,
                    f"variable name {key[:32]!r}... is longer than "
                    f"{platform.ENV_KEY_MAX_CHARS} characters",
                    field="variables",
                )
            if len(value.encode()) > platform.ENV_VALUE_MAX_BYTES:
                raise ApiError(400, f"value of {key!r} is larger than 32 KiB", field="variables")

    def _check_spec(self, who: Principal, spec: dict[str, Any]) -> None:
        if spec["type"] not in platform.SERVICE_TYPES:
            raise ApiError(
                400,
                f"invalid service type {spec['type']!r}: use web, worker, cron or static",
                field="type",
            )
        port = spec.get("port")
        if port is not None and not 1 <= port <= 65535:
            raise ApiError(400, f"invalid port {port}", field="port")
        if spec["replicas"] < 1:
            raise ApiError(400, "replicas must be at least 1", field="replicas")
        source = spec["source_path"]
        if source.startswith("/") or ".." in source.split("/"):
            raise ApiError(
                400, f"invalid source_path {source!r}: must be relative", field="source_path"
            )
        for dep in spec["dependencies"]:
            if not platform.is_dns_label(dep):
                raise ApiError(
                    400, f"invalid dependency service name {dep!r}", field="dependencies"
                )
        values: dict[str, float] = {}
        for key in ("cpu_request", "cpu_limit", "memory_request", "memory_limit"):
            try:
                quantity = platform.parse_quantity(spec[key])
            except ValueError as exc:
                raise ApiError(400, f"{key}: {exc}", field=key) from exc
            if quantity <= 0:
                raise ApiError(400, f"{key} must be positive", field=key)
            values[key] = float(quantity)
        for kind in ("cpu", "memory"):
            if values[f"{kind}_request"] > values[f"{kind}_limit"]:
                raise ApiError(
                    400, f"{kind}_request must not exceed {kind}_limit", field=f"{kind}_request"
                )
        if who.is_guest_tier:
            caps = (
                (
                    "cpu_limit",
                    platform.cpu_millicores(spec["cpu_limit"]),
                    platform.GUEST_CPU_LIMIT_MILLICORES,
                    "1",
                ),
                (
                    "memory_limit",
                    platform.memory_bytes(spec["memory_limit"]),
                    platform.GUEST_MEMORY_LIMIT_BYTES,
                    "1Gi",
                ),
                ("replicas", spec["replicas"], platform.GUEST_MAX_REPLICAS, 1),
            )
            for field_name, requested, cap, cap_text in caps:
                if requested > cap:
                    raise ApiError(
                        403,
                        f"guest_quota_exceeded: {field_name} exceeds the limit for local deploy "
                        "credentials not linked to an account",
                        error_code="guest_quota_exceeded",
                        field=field_name,
                        requested=spec[field_name],
                        limit=cap_text,
                    )

    def _service_view(self, tx: Transaction, row: Any) -> dict[str, Any]:
        spec = json.loads(row["spec"])
        return {
            "id": row["id"],
            "project_id": row["project_id"],
            "name": row["name"],
            "environment": row["environment"],
            **spec,
            "status": self._service_status(tx, row["id"]),
            "created_at": _ts(row["created_at"]),
            "updated_at": _ts(row["updated_at"]),
        }

    def _service_status(self, tx: Transaction, service_id: str) -> str:
        row = tx.one(
            "SELECT * FROM deployments WHERE service_id=? ORDER BY created_at DESC LIMIT 1",
            (service_id,),
        )
        if row is None:
            return "created"
        status = self._deployment_observed(row)[0]
        return {
            "success": "running",
            "failed": "failed",
            "cancelled": "stopped",
            "rolled_back": "running",
        }.get(status, "deploying")

    def create_service(self, who: Principal, project_id: str, body: dict[str, Any]) -> str:
        name = body["name"]
        if not platform.is_dns_label(name):
            raise ApiError(
                400, f"invalid service name {name!r}: use a lowercase DNS label", field="name"
            )
        if body["environment"] not in platform.ENVIRONMENTS:
            raise ApiError(400, "environment must be staging or production", field="environment")
        defaults = DEFAULT_RESOURCES["guest" if who.is_guest_tier else "user"]
        spec: dict[str, Any] = {
            "type": body["type"],
            "language": body.get("language") or "",
            "framework": body.get("framework") or "",
            "port": body.get("port"),
            "source_path": _clean_path(body.get("source_path") or ""),
            "dockerfile": body.get("dockerfile") or "",
            "dockerfile_path": body.get("dockerfile_path") or "",
            "build_context": body.get("build_context") or "",
            "build_command": body.get("build_command") or "",
            "build_variables": dict(body.get("build_variables") or {}),
            "health_check_path": body.get("health_check_path") or "",
            "readiness_path": body.get("readiness_path") or "",
            **{k: body.get(k) or v for k, v in defaults.items()},
            "replicas": 1 if body.get("replicas") is None else body["replicas"],
            "auto_scaling": bool(body.get("auto_scaling")),
            "internal_only": bool(body.get("internal_only")),
            "dependencies": list(body.get("dependencies") or []),
        }
        env = dict(body.get("runtime_variables") or {})
        self._check_spec(who, spec)
        self._check_env(env)
        self._check_env(spec["build_variables"])
        now = self.now()
        with self.store.transaction() as tx:
            self._project_row(tx, who, project_id)
            count = tx.one("SELECT count(*) AS n FROM services WHERE project_id=?", (project_id,))
            existing = count["n"] if count else 0
            if who.is_guest_tier and existing >= platform.GUEST_SERVICES_PER_PROJECT:
                raise ApiError(
                    403,
                    "guest_quota_exceeded: one service per project for local deploy credentials "
                    "not linked to an account",
                    error_code="guest_quota_exceeded",
                    field="services",
                    requested=existing + 1,
                    limit=platform.GUEST_SERVICES_PER_PROJECT,
                )
            if not who.is_guest_tier:
                self._check_quota(tx, who, "services")
            if tx.one(
                "SELECT 1 FROM services WHERE project_id=? AND name=? AND environment=?",
                (project_id, name, body["environment"]),
            ):
                raise ApiError(409, f"service {name!r} already exists in this project")
            sid = str(uuid.uuid4())
            tx.execute(
                "INSERT INTO services VALUES (?,?,?,?,?,?,?,?)",
                (
                    sid,
                    project_id,
                    name,
                    body["environment"],
                    json.dumps(spec),
                    json.dumps(env),
                    now,
                    now,
                ),
            )
            self._touch_project(tx, project_id)
        return sid

    def _service_row(self, tx: Transaction, who: Principal, service_id: str) -> Any:
        row = tx.one("SELECT * FROM services WHERE id=?", (service_id,))
        if row is None:
            raise not_found("service")
        self._project_row(tx, who, row["project_id"])
        return row

    def list_services(self, who: Principal, project_id: str) -> list[dict[str, Any]]:
        with self.store.transaction() as tx:
            self._project_row(tx, who, project_id)
            rows = tx.all(
                "SELECT * FROM services WHERE project_id=? ORDER BY created_at, name", (project_id,)
            )
            return [self._service_view(tx, r) for r in rows]

    def get_service(self, who: Principal, service_id: str) -> dict[str, Any]:
        with self.store.transaction() as tx:
            return self._service_view(tx, self._service_row(tx, who, service_id))

    def update_service(
        self, who: Principal, service_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        with self.store.transaction() as tx:
            row = self._service_row(tx, who, service_id)
            spec = json.loads(row["spec"])
            for key, value in changes.items():
                if value is None:
                    continue
                spec[key] = _clean_path(value) if key == "source_path" else value
            self._check_spec(who, spec)
            self._check_env(spec["build_variables"])
            tx.execute(
                "UPDATE services SET spec=?, updated_at=? WHERE id=?",
                (json.dumps(spec), self.now(), service_id),
            )
            return self._service_view(tx, self._service_row(tx, who, service_id))

    def delete_service(self, who: Principal, service_id: str) -> None:
        with self.store.transaction() as tx:
            self._service_row(tx, who, service_id)
            for table in ("deployments", "domains"):
                tx.execute(f"DELETE FROM {table} WHERE service_id=?", (service_id,))
            tx.execute("DELETE FROM services WHERE id=?", (service_id,))

    def _env_view(self, service_id: str, env: dict[str, str]) -> dict[str, Any]:
        return {
            "service_id": service_id,
            "variables": [{"key": k, "value": env[k]} for k in sorted(env)],
            "count": len(env),
        }

    def get_env(self, who: Principal, project_id: str, service_id: str) -> dict[str, Any]:
        with self.store.transaction() as tx:
            row = self._service_in_project(tx, who, project_id, service_id)
            return self._env_view(service_id, json.loads(row["env"]))

    def put_env(
        self, who: Principal, project_id: str, service_id: str, variables: dict[str, str]
    ) -> dict[str, Any]:
        self._check_env(variables)
        with self.store.transaction() as tx:
            self._service_in_project(tx, who, project_id, service_id)
            tx.execute(
                "UPDATE services SET env=?, updated_at=? WHERE id=?",
                (json.dumps(variables), self.now(), service_id),
            )
        return self._env_view(service_id, variables)

    def _service_in_project(
        self, tx: Transaction, who: Principal, project_id: str, service_id: str
    ) -> Any:
        self._project_row(tx, who, project_id)
        row = tx.one("SELECT * FROM services WHERE id=? AND project_id=?", (service_id, project_id))
        if row is None:
            raise not_found("service")
        return row

    def service_logs(self, who: Principal, project_id: str, service_id: str) -> dict[str, Any]:
        now = self.now()
        with self.store.transaction() as tx:
            svc = self._service_in_project(tx, who, project_id, service_id)
            spec = json.loads(svc["spec"])
            lines: list[dict[str, str]] = []
            for dep in tx.all(
                "SELECT * FROM deployments WHERE service_id=? ORDER BY created_at", (service_id,)
            ):
                status, _, completed = self._deployment_observed(dep)
                if status == "success" and completed is not None:
                    port = spec.get("port") or 8080
                    lines.append(
                        {
                            "timestamp": _ts(completed),
                            "level": "info",
                            "phase": "runtime",
                            "message": f"{svc['name']} listening on 0.0.0.0:{port}",
                        }
                    )
            lines = [x for x in lines if parse_rfc3339(x["timestamp"]) <= now]
            return {"service_id": service_id, "logs": lines, "total": len(lines)}

    # --- dependencies ------------------------------------------------------------------------

    def create_dependency(self, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
        dep_type = body["dependency_id"]
        if dep_type not in platform.DEPENDENCY_TYPES:
            raise ApiError(
                400,
                f"unknown dependency_id {dep_type!r}: use one of "
                + ", ".join(platform.DEPENDENCY_TYPES),
            )
        template = body.get("template_id") or f"{dep_type}-default"
        if not template.startswith(dep_type + "-"):
            raise ApiError(400, f"template {template!r} does not belong to {dep_type}")
        environment = body.get("environment") or "staging"
        if environment not in platform.ENVIRONMENTS:
            raise ApiError(400, "environment must be staging or production")
        now = self.now()
        with self.store.transaction() as tx:
            project = self._project_row(tx, who, body["project_id"])
            did = str(uuid.uuid4())
            name = body.get("display_name") or f"{dep_type}-{did[:6]}"
            env_vars = _connection_env(
                dep_type,
                host=f"{dep_type}-{did[:8]}.{project['name']}.svc.cluster.local",
                user=body.get("username") or "opendeploy",
                password=body.get("password") or "".join(secrets.choice(BASE62) for _ in range(24)),
                database=body.get("database_name") or project["name"].replace("-", "_"),
            )
            data = {
                "dependency_id": dep_type,
                "name": name,
                "display_name": body.get("display_name") or name,
                "type": dep_type,
                "template_id": template,
                "environment": environment,
                "env_vars": env_vars,
                "service_id": body.get("service_id") or "",
            }
            tx.execute(
                "INSERT INTO dependencies VALUES (?,?,?,?,?,NULL)",
                (
                    did,
                    body["project_id"],
                    json.dumps(data),
                    now,
                    now + self.config.dependency_ready_seconds,
                ),
            )
            self._touch_project(tx, body["project_id"])
            row = tx.one("SELECT * FROM dependencies WHERE id=?", (did,))
            return self._dependency_view(row)

    def _dependency_view(self, row: Any) -> dict[str, Any]:
        data = json.loads(row["data"])
        if row["failed_reason"]:
            status, message = "failed", str(row["failed_reason"])
        elif self.now() >= row["ready_at"]:
            status, message = "running", "Dependency is running"
        else:
            status, message = "provisioning", "Dependency provisioning started"
        return {
            "id": row["id"],
            "project_id": row["project_id"],
            **data,
            "status": status,
            "message": message,
            "created_at": _ts(row["created_at"]),
        }

    def dependency_status(self, who: Principal, project_id: str) -> dict[str, Any]:
        with self.store.transaction() as tx:
            self._project_row(tx, who, project_id)
            rows = tx.all(
                "SELECT * FROM dependencies WHERE project_id=? ORDER BY created_at", (project_id,)
            )
            return {
                "project_id": project_id,
                "dependencies": [self._dependency_view(r) for r in rows],
            }

    def delete_dependency(self, who: Principal, project_id: str, dependency_id: str) -> None:
        with self.store.transaction() as tx:
            self._project_row(tx, who, project_id)
            if not tx.execute(
                "DELETE FROM dependencies WHERE id=? AND project_id=?", (dependency_id, project_id)
            ):
                raise not_found("dependency")

    def fail_dependency(self, dependency_id: str, reason: str) -> None:
        with self.store.transaction() as tx:
            if not tx.execute(
                "UPDATE dependencies SET failed_reason=? WHERE id=?",
                (reason or "provisioning failed", dependency_id),
            ):
                raise not_found("dependency")

    # --- uploads -----------------------------------------------------------------------------

    def new_upload_path(self, filename: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[:100]
        folder = self.data_dir / "uploads" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        return folder / (safe or "source.zip")

    def check_upload_form(self, who: Principal, fields: dict[str, str]) -> None:
        if not fields.get("project_name"):
            raise ApiError(400, "project_name is required")
        with self.store.transaction() as tx:
            self._active_region(tx, fields.get("region_id"), "invalid region")
            if not fields.get("region_id"):
                raise ApiError(400, "invalid region: region_id is required")
            if fields.get("git_url"):
                self._validate_git(
                    tx, fields["git_url"], fields.get("branch"), fields.get("git_token")
                )

    def record_upload(
        self, who: Principal, path: Path, filename: str, size: int, fields: dict[str, str]
    ) -> dict[str, Any]:
        git_url = fields.get("git_url") or ""
        branch = fields.get("branch") or ""
        if git_url:
            with self.store.transaction() as tx:
                branch = self._validate_git(tx, git_url, branch, fields.get("git_token"))
                repo = tx.one("SELECT data FROM git_repos WHERE url=?", (git_url,))
            files = json.loads(repo["data"]).get("files") or {} if repo else {}
            with zipfile.ZipFile(path, "w") as archive:
                for name, content in files.items():
                    archive.writestr(name, content)
            size = path.stat().st_size
            filename = git_url
        data = {
            "tenant": who.tenant,
            "filename": filename,
            "size": size,
            "git_url": git_url,
            "branch": branch,
            "is_git": bool(git_url),
        }
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO uploads VALUES (?,?,?,?)",
                (path.parent.name, str(path), json.dumps(data), self.now()),
            )
        return {
            "temp_file_path": str(path),
            "filename": filename,
            "git_url": git_url,
            "branch": branch,
            "is_git": bool(git_url),
            "size": size,
        }

    def expire_upload(self, temp_file_path: str) -> None:
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM uploads WHERE path=?", (temp_file_path,))
        shutil.rmtree(Path(temp_file_path).parent, ignore_errors=True)

    def update_source(
        self,
        who: Principal,
        project_id: str,
        temp_file_path: str,
        analysis: dict[str, Any] | None,
    ) -> dict[str, Any]:
        now = self.now()
        with self.store.transaction() as tx:
            project = self._project_row(tx, who, project_id)
            upload = tx.one("SELECT * FROM uploads WHERE path=?", (temp_file_path,))
            fresh = (
                upload is not None
                and now - upload["created_at"] <= self.config.upload_ttl_seconds
                and Path(temp_file_path).is_file()
            )
            data = json.loads(project["data"])
            if not fresh:
                if data["source_path"]:
                    return self._source_result(
                        tx, project_id, data["source_path"], "Project source already up to date"
                    )
                raise ApiError(400, "Uploaded file not found or expired, please upload again")
            assert upload is not None
            if json.loads(upload["data"])["tenant"] != who.tenant:
                raise ApiError(403, "forbidden: this upload belongs to another account")
        target = self.data_dir / "projects" / project_id / uuid.uuid4().hex
        try:
            _extract_zip(Path(temp_file_path), target, self.config.max_extracted_bytes)
        except ApiError:
            shutil.rmtree(target, ignore_errors=True)
            raise
        except OSError as exc:
            shutil.rmtree(target, ignore_errors=True)
            raise ApiError(
                500, f"filesystem write failed: {exc.strerror}", service="project-service"
            ) from exc
        with self.store.transaction() as tx:
            project = self._project_row(tx, who, project_id)
            data = json.loads(project["data"])
            old = data["source_path"]
            data["source_path"] = str(target)
            data["original_file_path"] = temp_file_path
            if analysis is not None:
                data["analyze_config"] = json.dumps(analysis, sort_keys=True)
            tx.execute(
                "UPDATE projects SET data=?, updated_at=?, last_activity_at=? WHERE id=?",
                (json.dumps(data), now, now, project_id),
            )
            result = self._source_result(
                tx, project_id, str(target), "Project source updated successfully"
            )
        if old and Path(old).is_dir() and Path(old) != target:
            shutil.rmtree(old, ignore_errors=True)
        return result

    def _source_result(
        self, tx: Transaction, project_id: str, source_path: str, message: str
    ) -> dict[str, Any]:
        rows = tx.all(
            "SELECT * FROM services WHERE project_id=? ORDER BY created_at", (project_id,)
        )
        return {
            "project_id": project_id,
            "source_path": source_path,
            "services": [self._service_view(tx, r) for r in rows],
            "message": message,
        }

    # --- deployments -------------------------------------------------------------------------

    def add_deployment_fault(self, fault: DeploymentFault) -> str:
        with self._faults_lock:
            self.deployment_faults.append(fault)
        return fault.id

    def clear_deployment_faults(self) -> None:
        with self._faults_lock:
            self.deployment_faults.clear()

    def _take_fault(self, service_id: str, service_name: str) -> DeploymentFault | None:
        with self._faults_lock:
            for fault in self.deployment_faults:
                if fault.service not in (None, service_id, service_name):
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.deployment_faults.remove(fault)
                return fault
        return None

    def _deployment_observed(self, row: Any) -> tuple[str, int, float | None]:
        """(status, progress, completed_at) of a deployment row at the current clock."""
        timeline = lifecycle.Timeline.from_json(json.loads(row["timeline"]))
        created = row["created_at"]
        now = self.now()
        cancelled = row["cancelled_at"]
        if cancelled is not None:
            seen = lifecycle.observe(timeline, cancelled - created)
            if seen.completed_offset is None and now >= cancelled:
                return "cancelled", seen.progress, cancelled
        seen = lifecycle.observe(timeline, now - created)
        completed = None if seen.completed_offset is None else created + seen.completed_offset
        if seen.status == "success" and row["rolled_back_at"] is not None:
            return "rolled_back", 100, completed
        return seen.status, seen.progress, completed

    def _deployment_view(self, row: Any) -> dict[str, Any]:
        data = json.loads(row["data"])
        status, progress, completed = self._deployment_observed(row)
        timeline = json.loads(row["timeline"])
        error = timeline["error_msg"] if status == "failed" else ""
        if status == "cancelled":
            message = "Deployment cancelled"
        elif status == "failed":
            message = error
        else:
            message = {
                "success": "Deployment successful",
                "rolled_back": "Deployment was rolled back",
            }.get(status, f"Deployment is {status}")
        updated = completed or row["created_at"]
        return {
            "id": row["id"],
            "project_id": row["project_id"],
            "service_id": row["service_id"],
            **data,
            "status": status,
            "progress": progress,
            "message": message,
            "error_msg": error,
            "error_context": error and f"phase={_fail_phase(timeline)}",
            "created_at": _ts(row["created_at"]),
            "updated_at": _ts(updated),
            "completed_at": rfc3339(completed),
            "runtime_logs_query": {
                "path": f"/v1/projects/{row['project_id']}/services/{row['service_id']}/logs",
                "since": _ts(row["created_at"]),
            },
        }

    def create_deployment(self, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
        if body["environment"] not in platform.ENVIRONMENTS:
            raise ApiError(400, "environment must be staging or production")
        if body["source"] not in ("git", "zip"):
            raise ApiError(400, "source must be git or zip")
        strategy = body.get("strategy") or "rolling"
        if strategy not in STRATEGIES:
            raise ApiError(400, f"invalid strategy {strategy!r}: use " + ", ".join(STRATEGIES))
        version_type = body.get("version_type") or "patch"
        if version_type not in VERSION_TYPES:
            raise ApiError(400, "version_type must be major, minor or patch")
        with self.store.transaction() as tx:
            project = self._project_row(tx, who, body["project_id"])
            service = tx.one(
                "SELECT * FROM services WHERE id=? AND project_id=?",
                (body["service_id"], body["project_id"]),
            )
            if service is None:
                raise not_found("service")
            if service["environment"] != body["environment"]:
                raise ApiError(
                    400,
                    f"service {service['name']!r} belongs to the "
                    f"{service['environment']} environment",
                )
            known = {
                r["id"]
                for r in tx.all(
                    "SELECT id FROM dependencies WHERE project_id=?", (body["project_id"],)
                )
            }
            for dep in body.get("dependencies") or []:
                if dep not in known:
                    raise ApiError(400, f"dependency {dep!r} does not belong to this project")
            self._check_quota(tx, who, "projects", adding=0)
            return self._start_deployment(tx, who, project, service, body, version_type, None)

    def _start_deployment(
        self,
        tx: Transaction,
        who: Principal,
        project: Any,
        service: Any,
        body: dict[str, Any],
        version_type: str,
        rollback_of: str | None,
    ) -> dict[str, Any]:
        for row in tx.all("SELECT * FROM deployments WHERE service_id=?", (service["id"],)):
            if self._deployment_observed(row)[0] not in platform.TERMINAL_DEPLOYMENT_STATUSES:
                raise ApiError(
                    409,
                    "a deployment is already in progress for this service",
                    deployment_id=row["id"],
                )
        now = self.now()
        did = str(uuid.uuid4())
        pdata = json.loads(project["data"])
        spec = json.loads(service["spec"])
        timeline: lifecycle.Timeline
        if not pdata["source_path"]:
            timeline = lifecycle.instant_failure(self.durations())
        else:
            fault = self._take_fault(service["id"], service["name"])
            timeline = lifecycle.plan_timeline(
                self.durations(),
                lifecycle.BuildFacts(
                    deployment_id=did,
                    service_name=service["name"],
                    environment=service["environment"],
                    source_root=pdata["source_path"],
                    service_source_path=spec["source_path"],
                    language=spec["language"],
                    framework=spec["framework"],
                    dockerfile_path=spec["dockerfile_path"],
                    replicas=spec["replicas"],
                    resources=f"cpu={spec['cpu_request']}/{spec['cpu_limit']}, "
                    f"memory={spec['memory_request']}/{spec['memory_limit']}",
                    health_check_path=spec["health_check_path"],
                    port=spec["port"],
                    needs_analysis=not pdata["analyze_config"],
                    is_rollback=rollback_of is not None,
                    source_problem=_source_problem(pdata["source_path"], spec),
                    forced_phase=fault.phase if fault and fault.mode == "fail" else None,
                    forced_logs=fault.logs if fault else (),
                    forced_error=fault.error_msg if fault else "",
                    stall_phase=fault.phase if fault and fault.mode == "stall" else None,
                ),
            )
        previous = tx.one(
            "SELECT data FROM deployments WHERE service_id=? ORDER BY created_at DESC LIMIT 1",
            (service["id"],),
        )
        version = _bump(json.loads(previous["data"])["version"] if previous else None, version_type)
        data = {
            "environment": body["environment"],
            "source": body.get("source") or "zip",
            "branch": body.get("branch") or "",
            "temp_file_path": body.get("temp_file_path") or "",
            "description": body.get("description") or "",
            "strategy": body.get("strategy") or "rolling",
            "version": version,
            "version_type": version_type,
            "dependencies": list(body.get("dependencies") or []),
            "is_rollback": rollback_of is not None,
            "rollback_from_id": rollback_of,
        }
        tx.execute(
            "INSERT INTO deployments VALUES (?,?,?,?,?,?,NULL,NULL)",
            (
                did,
                project["id"],
                service["id"],
                json.dumps(data),
                json.dumps(timeline.to_json()),
                now,
            ),
        )
        tx.execute("UPDATE projects SET last_activity_at=? WHERE id=?", (now, project["id"]))
        if who.guest_id:
            tx.execute("UPDATE guests SET last_deployed_at=? WHERE id=?", (now, who.guest_id))
        return self._deployment_view(tx.one("SELECT * FROM deployments WHERE id=?", (did,)))

    def _deployment_row(self, tx: Transaction, who: Principal, deployment_id: str) -> Any:
        row = tx.one("SELECT * FROM deployments WHERE id=?", (deployment_id,))
        if row is None:
            raise not_found("deployment")
        self._project_row(tx, who, row["project_id"])
        return row

    def get_deployment(self, who: Principal, deployment_id: str) -> dict[str, Any]:
        with self.store.transaction() as tx:
            return self._deployment_view(self._deployment_row(tx, who, deployment_id))

    def list_deployments(
        self,
        who: Principal,
        project_id: str | None,
        status: str | None,
        service_id: str | None = None,
    ) -> list[dict[str, Any]]:
        with self.store.transaction() as tx:
            if project_id:
                self._project_row(tx, who, project_id)
                projects = [project_id]
            else:
                projects = [
                    r["id"] for r in tx.all("SELECT id FROM projects WHERE tenant=?", (who.tenant,))
                ]
            marks = ",".join("?" * len(projects)) or "NULL"
            rows = tx.all(
                f"SELECT * FROM deployments WHERE project_id IN ({marks}) "
                "ORDER BY created_at DESC, id",
                projects,
            )
            views = [self._deployment_view(r) for r in rows]
        return [
            v
            for v in views
            if (status is None or v["status"] == status)
            and (service_id is None or v["service_id"] == service_id)
        ]

    def deployment_logs(
        self, who: Principal, deployment_id: str, tail: int | None, since: str | None
    ) -> dict[str, Any]:
        if tail is not None and tail < 0:
            raise ApiError(400, "tail must be a non-negative integer")
        since_ts = parse_rfc3339(since) if since else None
        with self.store.transaction() as tx:
            row = self._deployment_row(tx, who, deployment_id)
            entries = self._log_entries(row)
        if entries is None:
            return {"deployment_id": deployment_id, "logs": None, "total": 0}
        if since_ts is not None:
            entries = [e for e in entries if e[0] > since_ts]
        if tail is not None:
            entries = entries[-tail:] if tail else []
        logs = [e[1] for e in entries]
        return {"deployment_id": deployment_id, "logs": logs, "total": len(logs)}

    def _log_entries(self, row: Any) -> list[tuple[float, dict[str, str]]] | None:
        timeline = lifecycle.Timeline.from_json(json.loads(row["timeline"]))
        created = row["created_at"]
        elapsed = self.now() - created
        cancelled = row["cancelled_at"]
        cut = elapsed if cancelled is None else min(elapsed, cancelled - created)
        lines = lifecycle.visible_logs(timeline, cut)
        if lines is None:
            return None
        out = [
            (
                created + x.offset,
                {
                    "timestamp": _ts(created + x.offset),
                    "level": x.level,
                    "phase": x.phase,
                    "message": x.message,
                },
            )
            for x in lines
        ]
        status = self._deployment_observed(row)[0]
        if status == "cancelled":
            out.append(
                (
                    cancelled,
                    {
                        "timestamp": _ts(cancelled),
                        "level": "warn",
                        "phase": "cancelled",
                        "message": "Deployment cancelled by user",
                    },
                )
            )
        return out

    def log_snapshot(
        self, who: Principal, deployment_id: str
    ) -> tuple[list[dict[str, str]], bool, str]:
        """(visible log lines, terminal?, status) for the streaming endpoints."""
        with self.store.transaction() as tx:
            row = self._deployment_row(tx, who, deployment_id)
            entries = self._log_entries(row) or []
            status = self._deployment_observed(row)[0]
        return ([e[1] for e in entries], status in platform.TERMINAL_DEPLOYMENT_STATUSES, status)

    def cancel_deployment(self, who: Principal, deployment_id: str) -> dict[str, Any]:
        with self.store.transaction() as tx:
            row = self._deployment_row(tx, who, deployment_id)
            status = self._deployment_observed(row)[0]
            if status in platform.TERMINAL_DEPLOYMENT_STATUSES:
                raise ApiError(409, f"deployment is already {status}", status=status)
            tx.execute(
                "UPDATE deployments SET cancelled_at=? WHERE id=?", (self.now(), deployment_id)
            )
            return self._deployment_view(self._deployment_row(tx, who, deployment_id))

    def rollback(self, who: Principal, deployment_id: str) -> dict[str, Any]:
        with self.store.transaction() as tx:
            target = self._deployment_row(tx, who, deployment_id)
            status = self._deployment_observed(target)[0]
            if status not in ("success", "rolled_back"):
                raise ApiError(
                    400,
                    f"only a successful deployment can be rolled back to (this one is {status})",
                )
            project = self._project_row(tx, who, target["project_id"])
            service = tx.one("SELECT * FROM services WHERE id=?", (target["service_id"],))
            assert service is not None
            tdata = json.loads(target["data"])
            live = [
                r
                for r in tx.all(
                    "SELECT * FROM deployments WHERE service_id=? AND id!=? "
                    "AND rolled_back_at IS NULL ORDER BY created_at DESC",
                    (target["service_id"], deployment_id),
                )
                if self._deployment_observed(r)[0] == "success"
                and r["created_at"] > target["created_at"]
            ]
            body = {
                **tdata,
                "description": f"Rollback to {deployment_id}",
                "temp_file_path": tdata["temp_file_path"],
            }
            view = self._start_deployment(
                tx, who, project, service, body, tdata["version_type"], deployment_id
            )
            for row in live:
                tx.execute(
                    "UPDATE deployments SET rolled_back_at=? WHERE id=?", (self.now(), row["id"])
                )
            tx.execute("UPDATE deployments SET rolled_back_at=NULL WHERE id=?", (deployment_id,))
            return view

    # --- domains -----------------------------------------------------------------------------

    def _sync_domains(self, tx: Transaction, service_ids: list[str]) -> None:
        """Write the auto domain row once a deployment has succeeded and the delay passed."""
        now = self.now()
        for sid in service_ids:
            for row in tx.all(
                "SELECT * FROM deployments WHERE service_id=? ORDER BY created_at", (sid,)
            ):
                status, _, completed = self._deployment_observed(row)
                if status not in ("success", "rolled_back") or completed is None:
                    continue
                appear = completed + self.config.auto_domain_delay_seconds
                env = json.loads(row["data"])["environment"]
                if appear > now or tx.one(
                    "SELECT 1 FROM domains WHERE service_id=? AND environment=? AND type='auto'",
                    (sid, env),
                ):
                    continue
                prefix = self._random_prefix(tx, env)
                tx.execute(
                    "INSERT INTO domains VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        str(uuid.uuid4()),
                        sid,
                        row["project_id"],
                        prefix,
                        platform.auto_domain(prefix, env),
                        env,
                        "auto",
                        appear,
                        appear,
                    ),
                )

    def _random_prefix(self, tx: Transaction, environment: str) -> str:
        alphabet = string.ascii_lowercase + string.digits
        while True:
            prefix = self.rng.choice(string.ascii_lowercase) + "".join(
                self.rng.choice(alphabet) for _ in range(9)
            )
            if (
                tx.one(
                    "SELECT 1 FROM domains WHERE domain=?",
                    (platform.auto_domain(prefix, environment),),
                )
                is None
            ):
                return prefix

    def _domain_view(self, row: Any) -> dict[str, Any]:
        settled = self.now() >= row["changed_at"] + self.config.domain_reconcile_seconds
        status = ("active" if settled else "pending") if row["type"] == "auto" else "pending"
        return {
            "id": row["id"],
            "service_id": row["service_id"],
            "project_id": row["project_id"],
            "domain": row["domain"],
            "environment": row["environment"],
            "type": row["type"],
            "status": status,
            "ssl_enabled": row["type"] == "auto",
            "is_primary": row["type"] == "auto",
            "created_at": _ts(row["created_at"]),
            "updated_at": _ts(row["changed_at"]),
        }

    def list_domains(
        self, who: Principal, service_id: str, environment: str | None, kind: str | None
    ) -> list[dict[str, Any]]:
        with self.store.transaction() as tx:
            self._service_row(tx, who, service_id)
            self._sync_domains(tx, [service_id])
            rows = tx.all(
                "SELECT * FROM domains WHERE service_id=? ORDER BY created_at", (service_id,)
            )
            views = [self._domain_view(r) for r in rows]
        return [
            v
            for v in views
            if (environment is None or v["environment"] == environment)
            and (kind is None or v["type"] == kind)
        ]

    def check_subdomain(self, prefix: str, environment: str | None) -> dict[str, Any]:
        problem = platform.subdomain_problem(prefix)
        if prefix in platform.RESERVED_SUBDOMAINS:
            return {"subdomain": prefix, "available": False, "reason": "reserved"}
        if problem is not None:
            raise ApiError(400, f"invalid subdomain {prefix!r}: {problem}")
        envs = [environment] if environment else list(platform.ENVIRONMENTS)
        with self.store.transaction() as tx:
            for env in envs:
                if env not in platform.AUTO_DOMAIN_BASE:
                    raise ApiError(400, "environment must be staging or production")
                if tx.one(
                    "SELECT 1 FROM domains WHERE domain=?", (platform.auto_domain(prefix, env),)
                ):
                    return {"subdomain": prefix, "available": False, "reason": "taken"}
        return {"subdomain": prefix, "available": True, "reason": ""}

    def _domain_row(self, tx: Transaction, who: Principal, domain_id: str) -> Any:
        row = tx.one("SELECT * FROM domains WHERE id=?", (domain_id,))
        if row is None:
            raise not_found("service domain")
        project = tx.one("SELECT tenant FROM projects WHERE id=?", (row["project_id"],))
        if project is None or project["tenant"] != who.tenant:
            raise ApiError(403, "forbidden: not your service")
        return row

    def rename_subdomain(self, who: Principal, domain_id: str, prefix: str) -> dict[str, Any]:
        problem = platform.subdomain_problem(prefix)
        if problem is not None:
            reason = "reserved" if prefix in platform.RESERVED_SUBDOMAINS else "invalid"
            raise ApiError(400, f"invalid subdomain {prefix!r}: {problem}", reason=reason)
        with self.store.transaction() as tx:
            row = self._domain_row(tx, who, domain_id)
            if row["type"] != "auto":
                raise ApiError(400, "only auto domains can be renamed")
            domain = platform.auto_domain(prefix, row["environment"])
            if domain != row["domain"]:
                clash = tx.one("SELECT 1 FROM domains WHERE domain=?", (domain,))
                if clash:
                    raise ApiError(409, f"subdomain {prefix!r} is already taken", reason="taken")
                tx.execute(
                    "UPDATE domains SET prefix=?, domain=?, changed_at=? WHERE id=?",
                    (prefix, domain, self.now(), domain_id),
                )
            return self._domain_view(self._domain_row(tx, who, domain_id))

    def retry_domain(self, who: Principal, domain_id: str) -> dict[str, Any]:
        with self.store.transaction() as tx:
            row = self._domain_row(tx, who, domain_id)
            return {"id": row["id"], "status": "reconciling"}

    def create_custom_domain(self, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
        self.require_bound(who)
        domain = body["domain"].strip().lower().rstrip(".")
        labels = domain.split(".")
        if len(labels) < 2 or not all(platform.is_dns_label(x) for x in labels):
            raise ApiError(400, f"invalid domain {domain!r}")
        if domain.endswith("opendeploy.run"):
            raise ApiError(400, "custom domains may not be under opendeploy.run")
        with self.store.transaction() as tx:
            svc = self._service_row(tx, who, body["service_id"])
            env = body.get("environment") or svc["environment"]
            if env not in platform.ENVIRONMENTS:
                raise ApiError(400, "environment must be staging or production")
            self._check_quota(tx, who, "custom_domains")
            if tx.one("SELECT 1 FROM domains WHERE domain=?", (domain,)):
                raise ApiError(409, f"domain {domain!r} is already in use")
            did = str(uuid.uuid4())
            now = self.now()
            tx.execute(
                "INSERT INTO domains VALUES (?,?,?,?,?,?,?,?,?)",
                (did, svc["id"], svc["project_id"], None, domain, env, "custom", now, now),
            )
            return self._domain_view(self._domain_row(tx, who, did))


def _clean_path(path: str) -> str:
    cleaned = posixpath.normpath(path.strip().strip("/")) if path.strip().strip("/") else ""
    return "" if cleaned == "." else cleaned


def _source_problem(source_root: str, spec: dict[str, Any]) -> str | None:
    root = Path(source_root)
    folder = root / spec["source_path"] if spec["source_path"] else root
    if not folder.is_dir():
        present = sorted(p.name for p in root.iterdir() if p.is_dir())[:10] if root.is_dir() else []
        listing = ", ".join(present) or "no folders"
        return (
            f"source folder {spec['source_path']!r} not found in the project archive "
            f"(archive has: {listing})"
        )
    dockerfile = spec["dockerfile_path"]
    found = dockerfile and ((folder / dockerfile).is_file() or (root / dockerfile).is_file())
    if dockerfile and not spec["dockerfile"] and not found:
        return f"Dockerfile {dockerfile!r} not found in {spec['source_path'] or '.'}"
    return None


def _extract_zip(archive: Path, target: Path, max_bytes: int) -> None:
    """Extract safely: no absolute or `..` members, no symlinks, bounded total size."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise ApiError(400, "uploaded file is not a valid ZIP archive") from exc
    with zf:
        total = 0
        members = zf.infolist()
        for info in members:
            name = info.filename
            parts = name.replace("\\", "/").split("/")
            if name.startswith("/") or ".." in parts:
                raise ApiError(400, f"archive member {name!r} escapes the archive root")
            total += info.file_size
            if total > max_bytes:
                raise ApiError(400, "archive expands beyond the size limit")
        target.mkdir(parents=True, exist_ok=True)
        for info in members:
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                continue  # symlinks are not followed into the build context
            dest = target / info.filename
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out, 1024 * 1024)


def _connection_env(
    dep_type: str, host: str, user: str, password: str, database: str
) -> dict[str, str]:
    port = DEPENDENCY_PORTS[dep_type]
    if dep_type == "postgres":
        url = f"postgresql://{user}:{password}@{host}:{port}/{database}"
        return {
            "DATABASE_URL": url,
            "POSTGRES_USER": user,
            "POSTGRES_PASSWORD": password,
            "POSTGRES_HOST": host,
            "POSTGRES_PORT": str(port),
            "POSTGRES_DB": database,
        }
    if dep_type == "mysql":
        url = f"mysql://{user}:{password}@{host}:{port}/{database}"
        return {
            "DATABASE_URL": url,
            "MYSQL_USER": user,
            "MYSQL_PASSWORD": password,
            "MYSQL_HOST": host,
            "MYSQL_PORT": str(port),
            "MYSQL_DATABASE": database,
        }
    if dep_type == "mongodb":
        url = f"mongodb://{user}:{password}@{host}:{port}/{database}?authSource=admin"
        return {
            "DATABASE_URL": url,
            "MONGODB_URI": url,
            "MONGO_USER": user,
            "MONGO_PASSWORD": password,
            "MONGO_HOST": host,
            "MONGO_PORT": str(port),
            "MONGO_DB": database,
        }
    if dep_type == "redis":
        url = f"redis://default:{password}@{host}:{port}/0"
        return {
            "REDIS_URL": url,
            "REDIS_HOST": host,
            "REDIS_PORT": str(port),
            "REDIS_PASSWORD": password,
        }
    url = f"clickhouse://{user}:{password}@{host}:{port}/{database}"
    return {
        "CLICKHOUSE_URL": url,
        "CLICKHOUSE_HOST": host,
        "CLICKHOUSE_PORT": str(port),
        "CLICKHOUSE_USER": user,
        "CLICKHOUSE_PASSWORD": password,
        "CLICKHOUSE_DB": database,
    }


def _bump(version: str | None, kind: str) -> str:
    if version is None:
        return "v1.0.0"
    major, minor, patch = (int(x) for x in version.lstrip("v").split("."))
    if kind == "major":
        return f"v{major + 1}.0.0"
    if kind == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


def _fail_phase(timeline: dict[str, Any]) -> str:
    phases = timeline["phases"]
    return str(phases[-1][0]) if phases else "pending"


def data_dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


__all__ = ["DeploymentFault", "Emulator", "Principal", "os"]
