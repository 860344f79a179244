"""Service domains: the auto domain that appears after a first successful deployment, custom
domains, subdomain checks and renames."""

from __future__ import annotations

import json
import string
import uuid
from typing import Any

from opendeploy_plan import platform
from opendeploy_plan.emulator import billing
from opendeploy_plan.emulator.common import ts
from opendeploy_plan.emulator.context import Context
from opendeploy_plan.emulator.errors import PlatformError
from opendeploy_plan.emulator.store import Transaction
from opendeploy_plan.emulator.tenancy import Principal, domain_row, require_bound, service_row


def sync_domains(ctx: Context, tx: Transaction, service_ids: list[str]) -> None:
    """Write the auto domain row once a deployment has succeeded and the delay passed."""
    now = ctx.now()
    for sid in service_ids:
        rows = tx.all("SELECT * FROM deployments WHERE service_id=? ORDER BY created_at", (sid,))
        for row in rows:
            seen = ctx.observe(row)
            if seen.status not in ("success", "rolled_back") or seen.completed_at is None:
                continue
            appear = seen.completed_at + ctx.config.auto_domain_delay_seconds
            env = json.loads(row["data"])["environment"]
            if appear > now or tx.one(
                "SELECT 1 FROM domains WHERE service_id=? AND environment=? AND type='auto'",
                (sid, env),
            ):
                continue
            prefix = _random_prefix(ctx, tx, env)
            domain = platform.auto_domain(prefix, env)
            tx.execute(
                "INSERT INTO domains VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    str(uuid.uuid4()),
                    sid,
                    row["project_id"],
                    prefix,
                    domain,
                    env,
                    "auto",
                    appear,
                    appear,
                ),
            )


def _random_prefix(ctx: Context, tx: Transaction, environment: str) -> str:
    alphabet = string.ascii_lowercase + string.digits
    while True:
        prefix = ctx.rng.choice(string.ascii_lowercase) + "".join(
            ctx.rng.choice(alphabet) for _ in range(9)
        )
        domain = platform.auto_domain(prefix, environment)
        if tx.one("SELECT 1 FROM domains WHERE domain=?", (domain,)) is None:
            return prefix


def domain_view(ctx: Context, row: Any) -> dict[str, Any]:
    settled = ctx.now() >= row["changed_at"] + ctx.config.domain_reconcile_seconds
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
        "created_at": ts(row["created_at"]),
        "updated_at": ts(row["changed_at"]),
    }


def list_domains(
    ctx: Context, who: Principal, service_id: str, environment: str | None, kind: str | None
) -> list[dict[str, Any]]:
    with ctx.store.transaction() as tx:
        service_row(tx, who, service_id)
        sync_domains(ctx, tx, [service_id])
        rows = tx.all("SELECT * FROM domains WHERE service_id=? ORDER BY created_at", (service_id,))
        views = [domain_view(ctx, r) for r in rows]
    return [
        v
        for v in views
        if (environment is None or v["environment"] == environment)
        and (kind is None or v["type"] == kind)
    ]


def check_subdomain(ctx: Context, prefix: str, environment: str | None) -> dict[str, Any]:
    problem = platform.subdomain_problem(prefix)
    if prefix in platform.RESERVED_SUBDOMAINS:
        return {"subdomain": prefix, "available": False, "reason": "reserved"}
    if problem is not None:
        raise PlatformError(400, f"invalid subdomain {prefix!r}: {problem}")
    envs = [environment] if environment else list(platform.ENVIRONMENTS)
    with ctx.store.transaction() as tx:
        for env in envs:
            if env not in platform.AUTO_DOMAIN_BASE:
                raise PlatformError(400, "environment must be staging or production")
            if tx.one("SELECT 1 FROM domains WHERE domain=?", (platform.auto_domain(prefix, env),)):
                return {"subdomain": prefix, "available": False, "reason": "taken"}
    return {"subdomain": prefix, "available": True, "reason": ""}


def rename_subdomain(ctx: Context, who: Principal, domain_id: str, prefix: str) -> dict[str, Any]:
    problem = platform.subdomain_problem(prefix)
    if problem is not None:
        reason = "reserved" if prefix in platform.RESERVED_SUBDOMAINS else "invalid"
        raise PlatformError(400, f"invalid subdomain {prefix!r}: {problem}", reason=reason)
    with ctx.store.transaction() as tx:
        row = domain_row(tx, who, domain_id)
        if row["type"] != "auto":
            raise PlatformError(400, "only auto domains can be renamed")
        domain = platform.auto_domain(prefix, row["environment"])
        if domain != row["domain"]:
            if tx.one("SELECT 1 FROM domains WHERE domain=?", (domain,)):
                raise PlatformError(409, f"subdomain {prefix!r} is already taken", reason="taken")
            tx.execute(
                "UPDATE domains SET prefix=?, domain=?, changed_at=? WHERE id=?",
                (prefix, domain, ctx.now(), domain_id),
            )
        return domain_view(ctx, domain_row(tx, who, domain_id))


def retry_domain(ctx: Context, who: Principal, domain_id: str) -> dict[str, Any]:
    with ctx.store.transaction() as tx:
        row = domain_row(tx, who, domain_id)
        return {"id": row["id"], "status": "reconciling"}


def create_custom_domain(ctx: Context, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    require_bound(who)
    domain = body["domain"].strip().lower().rstrip(".")
    labels = domain.split(".")
    if len(labels) < 2 or not all(platform.is_dns_label(x) for x in labels):
        raise PlatformError(400, f"invalid domain {domain!r}")
    if domain.endswith("opendeploy.run"):
        raise PlatformError(400, "custom domains may not be under opendeploy.run")
    with ctx.store.transaction() as tx:
        svc = service_row(tx, who, body["service_id"])
        env = body.get("environment") or svc["environment"]
        if env not in platform.ENVIRONMENTS:
            raise PlatformError(400, "environment must be staging or production")
        billing.check_quota(tx, who, "custom_domains")
        if tx.one("SELECT 1 FROM domains WHERE domain=?", (domain,)):
            raise PlatformError(409, f"domain {domain!r} is already in use")
        did = str(uuid.uuid4())
        now = ctx.now()
        tx.execute(
            "INSERT INTO domains VALUES (?,?,?,?,?,?,?,?,?)",
            (did, svc["id"], svc["project_id"], None, domain, env, "custom", now, now),
        )
        return domain_view(ctx, domain_row(tx, who, did))
