"""Credentials: dashboard tokens, guest registration, bind, the guest list, and the guest GC."""

from __future__ import annotations

import hashlib
import hmac
import math
import shutil
import uuid
from typing import Any

from opendeploy_plan import platform
from opendeploy_plan.emulator import billing, projects
from opendeploy_plan.emulator.common import new_token, rfc3339, token_hash, ts
from opendeploy_plan.emulator.context import Context
from opendeploy_plan.emulator.errors import PlatformError
from opendeploy_plan.emulator.tenancy import Principal, guest_row, owned_guest, require_user

DEFAULT_GUEST_NAME = "opendeploy local deploy"


def mint_dashboard_token(
    ctx: Context, user_id: str | None = None, email: str | None = None, plan: str = "pro"
) -> str:
    """A fresh `od_k` token. A new user unless `user_id` is given (one active per user)."""
    now = ctx.now()
    token = new_token(platform.DASHBOARD_TOKEN_KIND)
    with ctx.store.transaction() as tx:
        if user_id is None or tx.one("SELECT 1 FROM users WHERE id=?", (user_id,)) is None:
            user_id = billing.create_user(ctx, tx, user_id, email, plan)
        tx.execute("UPDATE tokens SET revoked=1 WHERE kind='k' AND user_id=?", (user_id,))
        tx.execute(
            "INSERT INTO tokens VALUES (?,?,?,?,?,0)", (token_hash(token), "k", user_id, None, now)
        )
    return token


def user_of_token(ctx: Context, token: str) -> str | None:
    with ctx.store.transaction() as tx:
        row = tx.one("SELECT user_id FROM tokens WHERE hash=? AND revoked=0", (token_hash(token),))
        return None if row is None else row["user_id"]


def bearer_token(authorization: str | None) -> tuple[str, str]:
    """(token, kind) of a well-formed Bearer header, or the documented 401."""
    if not authorization or not authorization.startswith("Bearer "):
        raise PlatformError(401, "missing or malformed Authorization header: use Bearer od_*")
    token = authorization.removeprefix("Bearer ").strip()
    kind = platform.token_kind(token)
    if kind is None:
        raise PlatformError(401, "invalid API key")
    return token, kind


def principal_of(ctx: Context, token: str, kind: str) -> Principal:
    """The principal a well-formed token stands for, or the documented 401."""
    with ctx.store.transaction() as tx:
        row = tx.one(
            "SELECT * FROM tokens WHERE hash=? AND kind=? AND revoked=0", (token_hash(token), kind)
        )
        if row is None:
            raise PlatformError(401, "invalid or expired API key")
        if kind == platform.DASHBOARD_TOKEN_KIND:
            return Principal("dashboard", row["user_id"], None)
        guest = tx.one("SELECT * FROM guests WHERE id=?", (row["guest_id"],))
        if guest is None or guest["state"] == "revoked":
            raise PlatformError(401, "invalid or expired API key")
        return Principal("guest", guest["bound_user_id"], guest["id"])


def bind_sig(ctx: Context, guest_id: str) -> str:
    return hmac.new(ctx.bind_secret, guest_id.encode(), hashlib.sha256).hexdigest()


def register(ctx: Context, ip: str, user_agent: str, body: dict[str, Any]) -> dict[str, Any]:
    now = ctx.now()
    name = (body.get("name") or "").strip() or DEFAULT_GUEST_NAME
    if len(name) > 64:
        raise PlatformError(400, "name must be at most 64 characters", error_code="name_too_long")
    with ctx.store.transaction() as tx:
        recent = tx.all(
            "SELECT at FROM register_log WHERE ip=? AND at>? ORDER BY at", (ip, now - 3600)
        )
        if len(recent) >= platform.REGISTER_LIMIT_PER_HOUR:
            wait = max(1, math.ceil(recent[0]["at"] + 3600 - now))
            raise PlatformError(
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
            api_key = new_token(platform.GUEST_TOKEN_KIND)
            hostname = (body.get("hostname") or "")[:255]
            row = (guest_id, name, hostname, api_key[:8], ip, user_agent, "pending")
            # then bound_user_id, bound_at, created_at, last_deployed_at
            tx.execute(
                "INSERT INTO guests VALUES (?,?,?,?,?,?,?,?,?,?,?)", (*row, None, None, now, None)
            )
            tx.execute(
                "INSERT INTO tokens VALUES (?,?,?,?,?,0)",
                (token_hash(api_key), "a", None, guest_id, now),
            )
    sig = bind_sig(ctx, guest_id)
    result: dict[str, Any] = {
        "guest_id": guest_id,
        "gateway": ctx.config.public_url,
        "bind_sig": sig,
        "name": name,
        "bind_url": platform.bind_url(ctx.config.public_url, guest_id, sig),
        "expires_in_seconds": platform.GUEST_IDLE_GC_SECONDS,
    }
    if api_key is not None:
        result["api_key"] = api_key
    return result


def guest_view(row: Any) -> dict[str, Any]:
    horizon = row["last_deployed_at"] or row["created_at"]
    return {
        "guest_id": row["id"],
        "state": row["state"],
        "name": row["name"],
        "hostname": row["hostname"],
        "prefix": row["prefix"],
        "created_at": ts(row["created_at"]),
        "last_deployed_at": rfc3339(row["last_deployed_at"]),
        "expires_at": None
        if row["state"] != "pending"
        else ts(horizon + platform.GUEST_IDLE_GC_SECONDS),
        "bound_at": rfc3339(row["bound_at"]),
        "source_ip": row["source_ip"],
        "source_user_agent": row["user_agent"],
    }


def _check_sig(ctx: Context, guest_id: str, sig: str) -> None:
    if not hmac.compare_digest(sig.encode(), bind_sig(ctx, guest_id).encode()):
        raise PlatformError(401, "invalid bind signature")


def guest_status(ctx: Context, guest_id: str, sig: str) -> dict[str, Any]:
    _check_sig(ctx, guest_id, sig)
    with ctx.store.transaction() as tx:
        return guest_view(guest_row(tx, guest_id))


def bind_guest(
    ctx: Context,
    guest_id: str,
    user_id: str | None = None,
    sig: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """What the dashboard does after SSO: the guest and its projects move to the user."""
    if sig is not None:
        _check_sig(ctx, guest_id, sig)
    now = ctx.now()
    with ctx.store.transaction() as tx:
        row = guest_row(tx, guest_id)
        if row["state"] == "revoked":
            raise PlatformError(409, "guest credential was revoked")
        if user_id is None:
            user_id = billing.create_user(ctx, tx, None, None, "free")
        if row["state"] == "bound" and row["bound_user_id"] != user_id:
            raise PlatformError(409, "guest credential is already bound to another account")
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
        "bound_at": ts(bound_at),
        "name": label,
        "project_ids": ids,
        "user_id": user_id,
    }


def list_guests(ctx: Context, who: Principal) -> list[dict[str, Any]]:
    with ctx.store.transaction() as tx:
        rows = tx.all(
            "SELECT * FROM guests WHERE bound_user_id=? AND state='bound' ORDER BY created_at",
            (require_user(who),),
        )
        return [guest_view(r) for r in rows]


def patch_guest(ctx: Context, who: Principal, guest_id: str, name: str | None) -> dict[str, Any]:
    label = (name or "").strip()
    if not label:
        raise PlatformError(400, "name is required", error_code="name_required")
    if len(label) > 64:
        raise PlatformError(400, "name must be at most 64 characters", error_code="name_too_long")
    with ctx.store.transaction() as tx:
        owned_guest(tx, who, guest_id)
        tx.execute("UPDATE guests SET name=? WHERE id=?", (label, guest_id))
        return guest_view(guest_row(tx, guest_id))


def delete_guest(ctx: Context, who: Principal, guest_id: str) -> dict[str, Any]:
    with ctx.store.transaction() as tx:
        owned_guest(tx, who, guest_id)
        tx.execute("UPDATE guests SET state='revoked' WHERE id=?", (guest_id,))
        tx.execute("UPDATE tokens SET revoked=1 WHERE guest_id=?", (guest_id,))
    return {"guest_id": guest_id, "state": "revoked"}


def run_gc(ctx: Context) -> dict[str, list[str]]:
    """Tear down guest projects idle for 6 h, and never-used pending credentials."""
    horizon = ctx.now() - platform.GUEST_IDLE_GC_SECONDS
    with ctx.store.transaction() as tx:
        stale = tx.all(
            "SELECT p.id FROM projects p JOIN guests g ON p.guest_id=g.id "
            "WHERE p.tenant='guest:' || g.id AND g.state='pending' AND p.last_activity_at<?",
            (horizon,),
        )
        project_ids = [r["id"] for r in stale]
        for pid in project_ids:
            projects.delete_project_rows(ctx, tx, pid)
        idle = tx.all(
            "SELECT id FROM guests WHERE state='pending' AND last_deployed_at IS NULL "
            "AND created_at<?",
            (horizon,),
        )
        guest_ids = [r["id"] for r in idle]
        for gid in guest_ids:
            for row in tx.all("SELECT id FROM projects WHERE guest_id=?", (gid,)):
                projects.delete_project_rows(ctx, tx, row["id"])
            tx.execute("DELETE FROM tokens WHERE guest_id=?", (gid,))
            tx.execute("DELETE FROM guests WHERE id=?", (gid,))
    for pid in project_ids:
        shutil.rmtree(ctx.project_dir(pid), ignore_errors=True)
    return {"deleted_projects": project_ids, "deleted_guests": guest_ids}
