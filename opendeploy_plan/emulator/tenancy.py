"""Who is calling, and what they may touch: every ownership lookup of the platform in one place.

A row lookup here either returns the row or raises the documented 401/403/404, so resource
modules never repeat a tenancy rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from opendeploy_plan.emulator.errors import PlatformError, not_found
from opendeploy_plan.emulator.store import Transaction


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


def require_user(who: Principal) -> str:
    if who.user_id is None:
        raise PlatformError(401, "this endpoint needs a dashboard session")
    return who.user_id


def require_bound(who: Principal) -> None:
    if who.is_guest_tier:
        raise PlatformError(
            403,
            "bind_required: link this local deploy credential to an account first",
            error_code="bind_required",
        )


def guest_row(tx: Transaction, guest_id: str) -> Any:
    row = tx.one("SELECT * FROM guests WHERE id=?", (guest_id,))
    if row is None:
        raise not_found("guest credential")
    return row


def owned_guest(tx: Transaction, who: Principal, guest_id: str) -> Any:
    uid = require_user(who)
    row = guest_row(tx, guest_id)
    if row["bound_user_id"] != uid:
        raise PlatformError(403, "not your guest credential")
    return row


def project_row(tx: Transaction, who: Principal, project_id: str) -> Any:
    row = tx.one("SELECT * FROM projects WHERE id=?", (project_id,))
    if row is None:
        raise not_found("project")
    if row["tenant"] != who.tenant:
        raise PlatformError(403, "forbidden: this project belongs to another account")
    return row


def service_row(tx: Transaction, who: Principal, service_id: str) -> Any:
    row = tx.one("SELECT * FROM services WHERE id=?", (service_id,))
    if row is None:
        raise not_found("service")
    project_row(tx, who, row["project_id"])
    return row


def service_in_project(tx: Transaction, who: Principal, project_id: str, service_id: str) -> Any:
    project_row(tx, who, project_id)
    row = tx.one("SELECT * FROM services WHERE id=? AND project_id=?", (service_id, project_id))
    if row is None:
        raise not_found("service")
    return row


def deployment_row(tx: Transaction, who: Principal, deployment_id: str) -> Any:
    row = tx.one("SELECT * FROM deployments WHERE id=?", (deployment_id,))
    if row is None:
        raise not_found("deployment")
    project_row(tx, who, row["project_id"])
    return row


def domain_row(tx: Transaction, who: Principal, domain_id: str) -> Any:
    row = tx.one("SELECT * FROM domains WHERE id=?", (domain_id,))
    if row is None:
        raise not_found("service domain")
    project = tx.one("SELECT tenant FROM projects WHERE id=?", (row["project_id"],))
    if project is None or project["tenant"] != who.tenant:
        raise PlatformError(403, "forbidden: not your service")
    return row


def check_upload_owner(who: Principal, upload: Any) -> None:
    """A parked upload is bound only by the tenant that parked it."""
    if json.loads(upload["data"])["tenant"] != who.tenant:
        raise PlatformError(403, "forbidden: this upload belongs to another account")


def tenant_project_ids(tx: Transaction, tenant: str) -> list[str]:
    return [r["id"] for r in tx.all("SELECT id FROM projects WHERE tenant=?", (tenant,))]
