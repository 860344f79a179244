"""Regions (seeded, switchable by the admin API) and the git repositories the emulator knows
(registered through the admin API, validated by project creation and git uploads)."""

from __future__ import annotations

import json
from typing import Any

from opendeploy_plan.emulator.context import Context
from opendeploy_plan.emulator.errors import PlatformError, not_found
from opendeploy_plan.emulator.store import Transaction


def regions(ctx: Context) -> list[dict[str, Any]]:
    with ctx.store.transaction() as tx:
        rows = tx.all("SELECT * FROM regions ORDER BY position")
    return [{k: r[k] for k in ("id", "name", "code", "status", "environment")} for r in rows]


def set_region_status(ctx: Context, region_id: str, status: str) -> None:
    if status not in ("active", "inactive"):
        raise PlatformError(400, "status must be active or inactive")
    with ctx.store.transaction() as tx:
        if not tx.execute("UPDATE regions SET status=? WHERE id=?", (status, region_id)):
            raise not_found("region")


def active_region(tx: Transaction, region_id: str | None, error: str) -> str:
    """The given region if it is active (else 400 `error`), or the first active one."""
    if region_id:
        row = tx.one("SELECT * FROM regions WHERE id=?", (region_id,))
        if row is None or row["status"] != "active":
            raise PlatformError(400, error)
        return str(row["id"])
    row = tx.one("SELECT id FROM regions WHERE status='active' ORDER BY position")
    if row is None:
        raise PlatformError(400, "no active region")
    return str(row["id"])


def add_git_repo(ctx: Context, url: str, data: dict[str, Any]) -> None:
    with ctx.store.transaction() as tx:
        tx.execute("INSERT OR REPLACE INTO git_repos VALUES (?,?)", (url, json.dumps(data)))


def git_repo(tx: Transaction, url: str) -> dict[str, Any] | None:
    row = tx.one("SELECT data FROM git_repos WHERE url=?", (url,))
    return None if row is None else dict(json.loads(row["data"]))


def validate_git(tx: Transaction, url: str, branch: str | None, token: str | None) -> str:
    """The branch to use, or the documented `Git validation failed` 400."""
    repo = git_repo(tx, url)
    if repo is None:
        raise PlatformError(
            400,
            "Git validation failed: repository not found or not reachable",
            error_code="repository_not_found",
            error_message=f"could not read {url}",
        )
    if repo.get("private") and not token:
        raise PlatformError(
            400,
            "Git validation failed: authentication required",
            error_code="authentication_failed",
            error_message="the repository is private; pass a token",
        )
    branches = list(repo.get("branches") or ["main"])
    default = str(repo.get("default_branch") or branches[0])
    if branch and branch not in branches:
        raise PlatformError(
            400,
            f"Git validation failed: branch {branch!r} not found",
            error_code="branch_not_found",
            error_message=f"branch {branch!r} does not exist",
            available_branches=branches,
            default_branch=default,
        )
    return branch or default
