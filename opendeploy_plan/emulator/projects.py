"""Projects: create (with git validation, the guest tier's one-live-project rule and quotas),
list, read, delete. Deleting a project deletes its services, deployments, dependencies,
domains and extracted sources."""

from __future__ import annotations

import json
import shutil
import uuid
from typing import Any

from opendeploy_plan import platform
from opendeploy_plan.emulator import billing
from opendeploy_plan.emulator.common import ts
from opendeploy_plan.emulator.context import Context
from opendeploy_plan.emulator.errors import PlatformError
from opendeploy_plan.emulator.regions import active_region, validate_git
from opendeploy_plan.emulator.store import Transaction
from opendeploy_plan.emulator.tenancy import Principal, project_row


def project_view(row: Any) -> dict[str, Any]:
    data = json.loads(row["data"])
    return {
        "id": row["id"],
        "name": row["name"],
        **data,
        "status": "active",
        "created_at": ts(row["created_at"]),
        "updated_at": ts(row["updated_at"]),
    }


def create_project(ctx: Context, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    name = body["name"]
    if not platform.is_dns_label(name):
        raise PlatformError(400, f"invalid project name {name!r}: use a lowercase DNS label")
    now = ctx.now()
    with ctx.store.transaction() as tx:
        region_id = active_region(tx, body.get("region_id"), "region not found")
        branch = body.get("branch") or ""
        if not body.get("skip_validation"):
            branch = validate_git(tx, body["repo_url"], branch, body.get("token"))
        if who.is_guest_tier:
            live = tx.one("SELECT id FROM projects WHERE tenant=?", (who.tenant,))
            if live is not None:
                raise PlatformError(
                    409,
                    "a local deploy credential not linked to an account may own one live "
                    "project at a time",
                    project_id=live["id"],
                )
        else:
            billing.check_quota(tx, who, "projects")
        if tx.one("SELECT 1 FROM projects WHERE tenant=? AND name=?", (who.tenant, name)):
            raise PlatformError(409, f"project name {name!r} already exists")
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
        guest = who.guest_id if who.is_guest_tier else None
        tx.execute(
            "INSERT INTO projects VALUES (?,?,?,?,?,?,?,?)",
            (pid, who.tenant, guest, name, json.dumps(data), now, now, now),
        )
        return project_view(tx.one("SELECT * FROM projects WHERE id=?", (pid,)))


def list_projects(ctx: Context, who: Principal) -> list[dict[str, Any]]:
    with ctx.store.transaction() as tx:
        rows = tx.all(
            "SELECT * FROM projects WHERE tenant=? ORDER BY created_at, name", (who.tenant,)
        )
        return [project_view(r) for r in rows]


def get_project(ctx: Context, who: Principal, project_id: str) -> dict[str, Any]:
    with ctx.store.transaction() as tx:
        return project_view(project_row(tx, who, project_id))


def delete_project(ctx: Context, who: Principal, project_id: str) -> None:
    with ctx.store.transaction() as tx:
        project_row(tx, who, project_id)
        delete_project_rows(ctx, tx, project_id)
    shutil.rmtree(ctx.project_dir(project_id), ignore_errors=True)


def delete_project_rows(ctx: Context, tx: Transaction, project_id: str) -> None:
    for row in tx.all("SELECT id FROM deployments WHERE project_id=?", (project_id,)):
        ctx.runner.stop(row["id"])
    for table in ("services", "deployments", "dependencies", "domains"):
        tx.execute(f"DELETE FROM {table} WHERE project_id=?", (project_id,))
    tx.execute("DELETE FROM projects WHERE id=?", (project_id,))


def touch_project(ctx: Context, tx: Transaction, project_id: str) -> None:
    tx.execute("UPDATE projects SET updated_at=? WHERE id=?", (ctx.now(), project_id))
