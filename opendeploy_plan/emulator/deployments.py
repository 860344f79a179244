"""Deployments as resources: validate and record them, answer reads, logs, cancel and rollback.
What a deployment *does* is the runner's (see `runner.py`); this module only stores the run
record the runner returns and asks the runner what it observes."""

from __future__ import annotations

import json
import uuid
from typing import Any

from opendeploy_plan import platform
from opendeploy_plan.emulator import billing
from opendeploy_plan.emulator.common import parse_rfc3339, rfc3339, ts
from opendeploy_plan.emulator.context import Context
from opendeploy_plan.emulator.errors import PlatformError, not_found
from opendeploy_plan.emulator.runner import DeploymentOrder, DeploymentRecord, LogEntry
from opendeploy_plan.emulator.store import Transaction
from opendeploy_plan.emulator.tenancy import (
    Principal,
    deployment_row,
    project_row,
    tenant_project_ids,
)

STRATEGIES = ("rolling", "recreate", "blue_green", "canary")
VERSION_TYPES = ("major", "minor", "patch")
_MESSAGES = {"success": "Deployment successful", "rolled_back": "Deployment was rolled back"}


def deployment_view(ctx: Context, row: Any) -> dict[str, Any]:
    data = json.loads(row["data"])
    seen = ctx.observe(row)
    status = seen.status
    error = seen.error_msg if status == "failed" else ""
    if status == "cancelled":
        message = "Deployment cancelled"
    elif status == "failed":
        message = error
    else:
        message = _MESSAGES.get(status, f"Deployment is {status}")
    updated = seen.completed_at or row["created_at"]
    return {
        "id": row["id"],
        "project_id": row["project_id"],
        "service_id": row["service_id"],
        **data,
        "status": status,
        "progress": seen.progress,
        "message": message,
        "error_msg": error,
        "error_context": error and f"phase={seen.error_phase}",
        "created_at": ts(row["created_at"]),
        "updated_at": ts(updated),
        "completed_at": rfc3339(seen.completed_at),
        "runtime_logs_query": {
            "path": f"/v1/projects/{row['project_id']}/services/{row['service_id']}/logs",
            "since": ts(row["created_at"]),
        },
    }


def create_deployment(ctx: Context, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    if body["environment"] not in platform.ENVIRONMENTS:
        raise PlatformError(400, "environment must be staging or production")
    if body["source"] not in ("git", "zip"):
        raise PlatformError(400, "source must be git or zip")
    strategy = body.get("strategy") or "rolling"
    if strategy not in STRATEGIES:
        raise PlatformError(400, f"invalid strategy {strategy!r}: use " + ", ".join(STRATEGIES))
    version_type = body.get("version_type") or "patch"
    if version_type not in VERSION_TYPES:
        raise PlatformError(400, "version_type must be major, minor or patch")
    with ctx.store.transaction() as tx:
        project = project_row(tx, who, body["project_id"])
        service = tx.one(
            "SELECT * FROM services WHERE id=? AND project_id=?",
            (body["service_id"], body["project_id"]),
        )
        if service is None:
            raise not_found("service")
        if service["environment"] != body["environment"]:
            raise PlatformError(
                400,
                f"service {service['name']!r} belongs to the {service['environment']} environment",
            )
        known = {
            r["id"]
            for r in tx.all("SELECT id FROM dependencies WHERE project_id=?", (body["project_id"],))
        }
        for dep in body.get("dependencies") or []:
            if dep not in known:
                raise PlatformError(400, f"dependency {dep!r} does not belong to this project")
        billing.check_quota(tx, who, "projects", adding=0)
        return _start(ctx, tx, who, project, service, body, version_type, None)


def _start(
    ctx: Context,
    tx: Transaction,
    who: Principal,
    project: Any,
    service: Any,
    body: dict[str, Any],
    version_type: str,
    rollback_of: str | None,
) -> dict[str, Any]:
    for row in tx.all("SELECT * FROM deployments WHERE service_id=?", (service["id"],)):
        if ctx.observe(row).status not in platform.TERMINAL_DEPLOYMENT_STATUSES:
            raise PlatformError(
                409, "a deployment is already in progress for this service", deployment_id=row["id"]
            )
    now = ctx.now()
    did = str(uuid.uuid4())
    pdata = json.loads(project["data"])
    run = ctx.runner.start(
        DeploymentOrder(
            deployment_id=did,
            service_id=service["id"],
            service_name=service["name"],
            environment=service["environment"],
            source_root=pdata["source_path"],
            spec=json.loads(service["spec"]),
            needs_analysis=not pdata["analyze_config"],
            is_rollback=rollback_of is not None,
        )
    )
    previous = tx.one(
        "SELECT data FROM deployments WHERE service_id=? ORDER BY created_at DESC LIMIT 1",
        (service["id"],),
    )
    version = bump(json.loads(previous["data"])["version"] if previous else None, version_type)
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
        (did, project["id"], service["id"], json.dumps(data), json.dumps(run), now),
    )
    tx.execute("UPDATE projects SET last_activity_at=? WHERE id=?", (now, project["id"]))
    if who.guest_id:
        tx.execute("UPDATE guests SET last_deployed_at=? WHERE id=?", (now, who.guest_id))
    return deployment_view(ctx, tx.one("SELECT * FROM deployments WHERE id=?", (did,)))


def get_deployment(ctx: Context, who: Principal, deployment_id: str) -> dict[str, Any]:
    with ctx.store.transaction() as tx:
        return deployment_view(ctx, deployment_row(tx, who, deployment_id))


def list_deployments(
    ctx: Context,
    who: Principal,
    project_id: str | None,
    status: str | None,
    service_id: str | None = None,
) -> list[dict[str, Any]]:
    with ctx.store.transaction() as tx:
        if project_id:
            project_row(tx, who, project_id)
            projects = [project_id]
        else:
            projects = tenant_project_ids(tx, who.tenant)
        marks = ",".join("?" * len(projects)) or "NULL"
        rows = tx.all(
            f"SELECT * FROM deployments WHERE project_id IN ({marks}) ORDER BY created_at DESC, id",
            projects,
        )
        views = [deployment_view(ctx, r) for r in rows]
    return [
        v
        for v in views
        if (status is None or v["status"] == status)
        and (service_id is None or v["service_id"] == service_id)
    ]


def deployment_logs(
    ctx: Context, who: Principal, deployment_id: str, tail: int | None, since: str | None
) -> dict[str, Any]:
    if tail is not None and tail < 0:
        raise PlatformError(400, "tail must be a non-negative integer")
    since_ts = parse_rfc3339(since) if since else None
    with ctx.store.transaction() as tx:
        entries: list[LogEntry] | None = ctx.log_lines(deployment_row(tx, who, deployment_id))
    if entries is None:
        return {"deployment_id": deployment_id, "logs": None, "total": 0}
    if since_ts is not None:
        entries = [e for e in entries if e[0] > since_ts]
    if tail is not None:
        entries = entries[-tail:] if tail else []
    logs = [e[1] for e in entries]
    return {"deployment_id": deployment_id, "logs": logs, "total": len(logs)}


def log_snapshot(
    ctx: Context, who: Principal, deployment_id: str
) -> tuple[list[dict[str, str]], bool, str]:
    """(visible log lines, terminal?, status) for the streaming endpoints."""
    with ctx.store.transaction() as tx:
        row = deployment_row(tx, who, deployment_id)
        entries = ctx.log_lines(row) or []
        status = ctx.observe(row).status
    return ([e[1] for e in entries], status in platform.TERMINAL_DEPLOYMENT_STATUSES, status)


def cancel_deployment(ctx: Context, who: Principal, deployment_id: str) -> dict[str, Any]:
    with ctx.store.transaction() as tx:
        row = deployment_row(tx, who, deployment_id)
        status = ctx.observe(row).status
        if status in platform.TERMINAL_DEPLOYMENT_STATUSES:
            raise PlatformError(409, f"deployment is already {status}", status=status)
        now = ctx.now()
        tx.execute("UPDATE deployments SET cancelled_at=? WHERE id=?", (now, deployment_id))
        row = deployment_row(tx, who, deployment_id)
        ctx.runner.cancel(DeploymentRecord.from_row(row), now)
        return deployment_view(ctx, row)


def rollback(ctx: Context, who: Principal, deployment_id: str) -> dict[str, Any]:
    with ctx.store.transaction() as tx:
        target = deployment_row(tx, who, deployment_id)
        status = ctx.observe(target).status
        if status not in ("success", "rolled_back"):
            raise PlatformError(
                400,
                f"only a successful deployment can be rolled back to (this one is {status})",
            )
        project = project_row(tx, who, target["project_id"])
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
            if ctx.observe(r).status == "success" and r["created_at"] > target["created_at"]
        ]
        body = {
            **tdata,
            "description": f"Rollback to {deployment_id}",
            "temp_file_path": tdata["temp_file_path"],
        }
        view = _start(ctx, tx, who, project, service, body, tdata["version_type"], deployment_id)
        for row in live:
            tx.execute("UPDATE deployments SET rolled_back_at=? WHERE id=?", (ctx.now(), row["id"]))
        tx.execute("UPDATE deployments SET rolled_back_at=NULL WHERE id=?", (deployment_id,))
        return view


def bump(version: str | None, kind: str) -> str:
    if version is None:
        return "v1.0.0"
    major, minor, patch = (int(x) for x in version.lstrip("v").split("."))
    if kind == "major":
        return f"v{major + 1}.0.0"
    if kind == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"
