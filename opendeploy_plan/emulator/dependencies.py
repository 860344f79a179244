"""Managed dependencies (databases, caches): create with connection variables, provisioning
status by the clock (or a forced failure), delete."""

from __future__ import annotations

import json
import uuid
from typing import Any

from opendeploy_plan import platform
from opendeploy_plan.emulator.common import random_secret, ts
from opendeploy_plan.emulator.context import Context
from opendeploy_plan.emulator.errors import PlatformError, not_found
from opendeploy_plan.emulator.projects import touch_project
from opendeploy_plan.emulator.store import Sealed
from opendeploy_plan.emulator.tenancy import Principal, project_row

DEPENDENCY_PORTS = {
    "postgres": 5432,
    "mysql": 3306,
    "mongodb": 27017,
    "redis": 6379,
    "clickhouse": 8123,
}


def create_dependency(ctx: Context, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    dep_type = body["dependency_id"]
    if dep_type not in platform.DEPENDENCY_TYPES:
        raise PlatformError(
            400,
            f"unknown dependency_id {dep_type!r}: use one of "
            + ", ".join(platform.DEPENDENCY_TYPES),
        )
    template = body.get("template_id") or f"{dep_type}-default"
    if not template.startswith(dep_type + "-"):
        raise PlatformError(400, f"template {template!r} does not belong to {dep_type}")
    environment = body.get("environment") or "staging"
    if environment not in platform.ENVIRONMENTS:
        raise PlatformError(400, "environment must be staging or production")
    now = ctx.now()
    with ctx.store.transaction() as tx:
        project = project_row(tx, who, body["project_id"])
        did = str(uuid.uuid4())
        name = body.get("display_name") or f"{dep_type}-{did[:6]}"
        env_vars = connection_env(
            dep_type,
            host=f"{dep_type}-{did[:8]}.{project['name']}.svc.cluster.local",
            user=body.get("username") or "opendeploy",
            password=body.get("password") or random_secret(24),
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
        ready_at = now + ctx.config.dependency_ready_seconds
        tx.execute(
            "INSERT INTO dependencies VALUES (?,?,?,?,?,NULL)",
            (did, body["project_id"], Sealed(json.dumps(data)), now, ready_at),
        )
        touch_project(ctx, tx, body["project_id"])
        return dependency_view(ctx, tx.one("SELECT * FROM dependencies WHERE id=?", (did,)))


def dependency_view(ctx: Context, row: Any) -> dict[str, Any]:
    data = json.loads(row["data"])
    if row["failed_reason"]:
        status, message = "failed", str(row["failed_reason"])
    elif ctx.now() >= row["ready_at"]:
        status, message = "running", "Dependency is running"
    else:
        status, message = "provisioning", "Dependency provisioning started"
    return {
        "id": row["id"],
        "project_id": row["project_id"],
        **data,
        "status": status,
        "message": message,
        "created_at": ts(row["created_at"]),
    }


def dependency_status(ctx: Context, who: Principal, project_id: str) -> dict[str, Any]:
    with ctx.store.transaction() as tx:
        project_row(tx, who, project_id)
        rows = tx.all(
            "SELECT * FROM dependencies WHERE project_id=? ORDER BY created_at", (project_id,)
        )
        return {
            "project_id": project_id,
            "dependencies": [dependency_view(ctx, r) for r in rows],
        }


def delete_dependency(ctx: Context, who: Principal, project_id: str, dependency_id: str) -> None:
    with ctx.store.transaction() as tx:
        project_row(tx, who, project_id)
        if not tx.execute(
            "DELETE FROM dependencies WHERE id=? AND project_id=?", (dependency_id, project_id)
        ):
            raise not_found("dependency")


def fail_dependency(ctx: Context, dependency_id: str, reason: str) -> None:
    with ctx.store.transaction() as tx:
        if not tx.execute(
            "UPDATE dependencies SET failed_reason=? WHERE id=?",
            (reason or "provisioning failed", dependency_id),
        ):
            raise not_found("dependency")


def connection_env(
    dep_type: str, host: str, user: str, password: str, database: str
) -> dict[str, str]:
    """The variables a service gets to reach the dependency (documented names per type)."""
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
