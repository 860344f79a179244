"""Services: create (spec and env validation, guest-tier caps, quotas), list, read, update,
delete; their runtime variables (`/env`) and runtime logs."""

from __future__ import annotations

import json
import uuid
from typing import Any

from opendeploy_plan import platform
from opendeploy_plan.emulator import billing
from opendeploy_plan.emulator.common import clean_path, parse_rfc3339, ts
from opendeploy_plan.emulator.context import Context
from opendeploy_plan.emulator.errors import PlatformError
from opendeploy_plan.emulator.projects import touch_project
from opendeploy_plan.emulator.store import Sealed, Transaction
from opendeploy_plan.emulator.tenancy import Principal, project_row, service_in_project, service_row

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

# What a service reports for the status of its latest deployment.
_SERVICE_STATUS = {
    "success": "running",
    "failed": "failed",
    "cancelled": "stopped",
    "rolled_back": "running",
}


def check_env(variables: dict[str, str]) -> None:
    for key, value in variables.items():
        if not key or "=" in key:
            raise PlatformError(400, f"invalid variable name {key!r}", field="variables")
        if len(key) > platform.ENV_KEY_MAX_CHARS:
            raise PlatformError(
                400,
                f"variable name {key[:32]!r}... is longer than "
                f"{platform.ENV_KEY_MAX_CHARS} characters",
                field="variables",
            )
        if len(value.encode()) > platform.ENV_VALUE_MAX_BYTES:
            raise PlatformError(400, f"value of {key!r} is larger than 32 KiB", field="variables")


def check_spec(who: Principal, spec: dict[str, Any]) -> None:
    if spec["type"] not in platform.SERVICE_TYPES:
        raise PlatformError(
            400,
            f"invalid service type {spec['type']!r}: use web, worker, cron or static",
            field="type",
        )
    port = spec.get("port")
    if port is not None and not 1 <= port <= 65535:
        raise PlatformError(400, f"invalid port {port}", field="port")
    if spec["replicas"] < 1:
        raise PlatformError(400, "replicas must be at least 1", field="replicas")
    source = spec["source_path"]
    if source.startswith("/") or ".." in source.split("/"):
        raise PlatformError(
            400, f"invalid source_path {source!r}: must be relative", field="source_path"
        )
    for dep in spec["dependencies"]:
        if not platform.is_dns_label(dep):
            raise PlatformError(
                400, f"invalid dependency service name {dep!r}", field="dependencies"
            )
    _check_resources(spec)
    if who.is_guest_tier:
        _check_guest_caps(spec)


def _check_resources(spec: dict[str, Any]) -> None:
    values: dict[str, float] = {}
    for key in ("cpu_request", "cpu_limit", "memory_request", "memory_limit"):
        try:
            quantity = platform.parse_quantity(spec[key])
        except ValueError as exc:
            raise PlatformError(400, f"{key}: {exc}", field=key) from exc
        if quantity <= 0:
            raise PlatformError(400, f"{key} must be positive", field=key)
        values[key] = float(quantity)
    for kind in ("cpu", "memory"):
        if values[f"{kind}_request"] > values[f"{kind}_limit"]:
            raise PlatformError(
                400, f"{kind}_request must not exceed {kind}_limit", field=f"{kind}_request"
            )


def _check_guest_caps(spec: dict[str, Any]) -> None:
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
            raise PlatformError(
                403,
                f"guest_quota_exceeded: {field_name} exceeds the limit for local deploy "
                "credentials not linked to an account",
                error_code="guest_quota_exceeded",
                field=field_name,
                requested=spec[field_name],
                limit=cap_text,
            )


def service_view(ctx: Context, tx: Transaction, row: Any) -> dict[str, Any]:
    spec = json.loads(row["spec"])
    return {
        "id": row["id"],
        "project_id": row["project_id"],
        "name": row["name"],
        "environment": row["environment"],
        **spec,
        "status": _service_status(ctx, tx, row["id"]),
        "created_at": ts(row["created_at"]),
        "updated_at": ts(row["updated_at"]),
    }


def _service_status(ctx: Context, tx: Transaction, service_id: str) -> str:
    row = tx.one(
        "SELECT * FROM deployments WHERE service_id=? ORDER BY created_at DESC LIMIT 1",
        (service_id,),
    )
    if row is None:
        return "created"
    return _SERVICE_STATUS.get(ctx.observe(row).status, "deploying")


def create_service(ctx: Context, who: Principal, project_id: str, body: dict[str, Any]) -> str:
    name = body["name"]
    if not platform.is_dns_label(name):
        raise PlatformError(
            400, f"invalid service name {name!r}: use a lowercase DNS label", field="name"
        )
    if body["environment"] not in platform.ENVIRONMENTS:
        raise PlatformError(400, "environment must be staging or production", field="environment")
    defaults = DEFAULT_RESOURCES["guest" if who.is_guest_tier else "user"]
    spec: dict[str, Any] = {
        "type": body["type"],
        "language": body.get("language") or "",
        "framework": body.get("framework") or "",
        "port": body.get("port"),
        "source_path": clean_path(body.get("source_path") or ""),
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
    check_spec(who, spec)
    check_env(env)
    check_env(spec["build_variables"])
    now = ctx.now()
    with ctx.store.transaction() as tx:
        project_row(tx, who, project_id)
        count = tx.one("SELECT count(*) AS n FROM services WHERE project_id=?", (project_id,))
        existing = count["n"] if count else 0
        if who.is_guest_tier and existing >= platform.GUEST_SERVICES_PER_PROJECT:
            raise PlatformError(
                403,
                "guest_quota_exceeded: one service per project for local deploy credentials "
                "not linked to an account",
                error_code="guest_quota_exceeded",
                field="services",
                requested=existing + 1,
                limit=platform.GUEST_SERVICES_PER_PROJECT,
            )
        if not who.is_guest_tier:
            billing.check_quota(tx, who, "services")
        if tx.one(
            "SELECT 1 FROM services WHERE project_id=? AND name=? AND environment=?",
            (project_id, name, body["environment"]),
        ):
            raise PlatformError(409, f"service {name!r} already exists in this project")
        sid = str(uuid.uuid4())
        tx.execute(
            "INSERT INTO services VALUES (?,?,?,?,?,?,?,?)",
            (
                sid,
                project_id,
                name,
                body["environment"],
                Sealed(json.dumps(spec)),
                Sealed(json.dumps(env)),
                now,
                now,
            ),
        )
        touch_project(ctx, tx, project_id)
    return sid


def list_services(ctx: Context, who: Principal, project_id: str) -> list[dict[str, Any]]:
    with ctx.store.transaction() as tx:
        project_row(tx, who, project_id)
        rows = tx.all(
            "SELECT * FROM services WHERE project_id=? ORDER BY created_at, name", (project_id,)
        )
        return [service_view(ctx, tx, r) for r in rows]


def get_service(ctx: Context, who: Principal, service_id: str) -> dict[str, Any]:
    with ctx.store.transaction() as tx:
        return service_view(ctx, tx, service_row(tx, who, service_id))


def update_service(
    ctx: Context, who: Principal, service_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    with ctx.store.transaction() as tx:
        row = service_row(tx, who, service_id)
        spec = json.loads(row["spec"])
        for key, value in changes.items():
            if value is None:
                continue
            spec[key] = clean_path(value) if key == "source_path" else value
        check_spec(who, spec)
        check_env(spec["build_variables"])
        tx.execute(
            "UPDATE services SET spec=?, updated_at=? WHERE id=?",
            (Sealed(json.dumps(spec)), ctx.now(), service_id),
        )
        return service_view(ctx, tx, service_row(tx, who, service_id))


def delete_service(ctx: Context, who: Principal, service_id: str) -> None:
    with ctx.store.transaction() as tx:
        service_row(tx, who, service_id)
        for row in tx.all("SELECT id FROM deployments WHERE service_id=?", (service_id,)):
            ctx.runner.stop(row["id"])
        for table in ("deployments", "domains"):
            tx.execute(f"DELETE FROM {table} WHERE service_id=?", (service_id,))
        tx.execute("DELETE FROM services WHERE id=?", (service_id,))


def _env_view(service_id: str, env: dict[str, str]) -> dict[str, Any]:
    return {
        "service_id": service_id,
        "variables": [{"key": k, "value": env[k]} for k in sorted(env)],
        "count": len(env),
    }


def get_env(ctx: Context, who: Principal, project_id: str, service_id: str) -> dict[str, Any]:
    with ctx.store.transaction() as tx:
        row = service_in_project(tx, who, project_id, service_id)
        return _env_view(service_id, json.loads(row["env"]))


def put_env(
    ctx: Context, who: Principal, project_id: str, service_id: str, variables: dict[str, str]
) -> dict[str, Any]:
    check_env(variables)
    with ctx.store.transaction() as tx:
        service_in_project(tx, who, project_id, service_id)
        tx.execute(
            "UPDATE services SET env=?, updated_at=? WHERE id=?",
            (Sealed(json.dumps(variables)), ctx.now(), service_id),
        )
    return _env_view(service_id, variables)


def service_logs(ctx: Context, who: Principal, project_id: str, service_id: str) -> dict[str, Any]:
    now = ctx.now()
    with ctx.store.transaction() as tx:
        svc = service_in_project(tx, who, project_id, service_id)
        spec = json.loads(svc["spec"])
        # A release really running on this machine (the local runtime) shows what its process
        # printed; otherwise the simulation's one line per successful deployment.
        real = ctx.runner.service_log_lines(service_id, now)
        if real is not None:
            logs = [line for _, line in sorted(real, key=lambda entry: entry[0])]
            return {"service_id": service_id, "logs": logs, "total": len(logs)}
        lines: list[dict[str, str]] = []
        for dep in tx.all(
            "SELECT * FROM deployments WHERE service_id=? ORDER BY created_at", (service_id,)
        ):
            seen = ctx.observe(dep)
            if seen.status == "success" and seen.completed_at is not None:
                port = spec.get("port") or 8080
                lines.append(
                    {
                        "timestamp": ts(seen.completed_at),
                        "level": "info",
                        "phase": "runtime",
                        "message": f"{svc['name']} listening on 0.0.0.0:{port}",
                    }
                )
        lines = [x for x in lines if parse_rfc3339(x["timestamp"]) <= now]
        return {"service_id": service_id, "logs": lines, "total": len(lines)}
