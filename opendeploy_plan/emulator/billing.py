"""Users' plans and quotas: the profile, `GET /v1/billing/quota` and the quota checks that
project, service and custom-domain creation run."""

from __future__ import annotations

import json
import uuid
from typing import Any

from opendeploy_plan.emulator.common import ts
from opendeploy_plan.emulator.context import Context
from opendeploy_plan.emulator.errors import PlatformError, not_found
from opendeploy_plan.emulator.store import Transaction
from opendeploy_plan.emulator.tenancy import Principal, require_bound

PLAN_QUOTAS = {
    "free": {"projects": 3, "services": 3, "custom_domains": 0},
    "pro": {"projects": 50, "services": 20, "custom_domains": 10},
    "none": {"projects": 0, "services": 0, "custom_domains": 0},
}


def create_user(
    ctx: Context, tx: Transaction, user_id: str | None, email: str | None, plan: str
) -> str:
    if plan not in PLAN_QUOTAS:
        raise PlatformError(400, f"unknown plan {plan!r}")
    uid = user_id or str(uuid.uuid4())
    tx.execute(
        "INSERT INTO users VALUES (?,?,?,?,?,?)",
        (
            uid,
            email or f"user-{uid[:8]}@example.com",
            f"user {uid[:8]}",
            plan,
            json.dumps(PLAN_QUOTAS[plan]),
            ctx.now(),
        ),
    )
    return uid


def set_user_plan(ctx: Context, user_id: str, plan: str | None, quota: dict[str, int]) -> None:
    with ctx.store.transaction() as tx:
        row = tx.one("SELECT * FROM users WHERE id=?", (user_id,))
        if row is None:
            raise not_found("user")
        quotas = json.loads(row["quota"])
        if plan is not None:
            if plan not in PLAN_QUOTAS:
                raise PlatformError(400, f"unknown plan {plan!r}")
            quotas = dict(PLAN_QUOTAS[plan])
        quotas.update(quota)
        tx.execute(
            "UPDATE users SET plan=?, quota=? WHERE id=?",
            (plan or row["plan"], json.dumps(quotas), user_id),
        )


def profile(ctx: Context, who: Principal) -> dict[str, Any]:
    if who.user_id is None:
        raise PlatformError(401, "local deploy credential is not linked to an account")
    with ctx.store.transaction() as tx:
        row = tx.one("SELECT * FROM users WHERE id=?", (who.user_id,))
        if row is None:
            raise PlatformError(401, "invalid or expired API key")
        return {
            "id": row["id"],
            "email": row["email"],
            "name": row["name"],
            "plan": row["plan"],
            "created_at": ts(row["created_at"]),
        }


def quota(ctx: Context, who: Principal) -> dict[str, Any]:
    require_bound(who)
    with ctx.store.transaction() as tx:
        user = tx.one("SELECT * FROM users WHERE id=?", (who.user_id,))
        assert user is not None
        limits = json.loads(user["quota"])
        used = usage(tx, who.tenant)
        return {
            "plan": user["plan"],
            "quotas": [{"name": k, "limit": v, "used": used.get(k, 0)} for k, v in limits.items()],
        }


def usage(tx: Transaction, tenant: str) -> dict[str, int]:
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


def check_quota(tx: Transaction, who: Principal, name: str, adding: int = 1) -> None:
    if who.user_id is None:
        return
    user = tx.one("SELECT * FROM users WHERE id=?", (who.user_id,))
    if user is None:
        return
    if user["plan"] == "none":
        raise PlatformError(
            403,
            "subscription required: no active subscription",
            error_code="subscription_required",
        )
    limit = json.loads(user["quota"]).get(name)
    used = usage(tx, who.tenant).get(name, 0)
    if limit is not None and used + adding > limit:
        raise PlatformError(
            403,
            f"quota exceeded: {name} ({used}/{limit})",
            error_code="quota_exceeded",
            quota=name,
            limit=limit,
            used=used,
        )
