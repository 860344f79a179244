"""The emulator's own admin API under `/_emulator/` (not part of the platform): mint tokens,
bind guests, move the clock, run GC, force failures, inject faults, read request counts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from opendeploy_plan.emulator.errors import PlatformError
from opendeploy_plan.emulator.faults import DeploymentFault, FaultBook, FaultRule
from opendeploy_plan.emulator.state import Emulator


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MintToken(_Body):
    user_id: str | None = None
    email: str | None = None
    plan: str = "pro"
    # A user has one live dashboard token; minting another revokes it, so only on request.
    rotate: bool = False


class BindGuest(_Body):
    user_id: str | None = None
    name: str | None = None


class Advance(_Body):
    seconds: float = Field(ge=0)


class FailDependency(_Body):
    reason: str = "provisioning failed: node pool exhausted"


class FaultSpec(_Body):
    kind: str
    method: str = "*"
    route: str = "*"
    count: int | None = Field(default=None, ge=1)
    rate: float = Field(default=1.0, ge=0, le=1)
    seed: int | None = None
    status: int = Field(default=503, ge=500, le=599)
    latency_ms: int = Field(default=0, ge=0)
    retry_after: int = Field(default=1, ge=0)


class DeploymentFaultSpec(_Body):
    mode: str = "fail"
    phase: str = "build"
    service: str | None = None
    logs: list[str] = Field(default_factory=list)
    error_msg: str = ""
    count: int | None = Field(default=1, ge=1)


class RegionStatus(_Body):
    status: str


class PlanChange(_Body):
    plan: str | None = None
    quota: dict[str, int] = Field(default_factory=dict)


class GitRepo(_Body):
    url: str
    branches: list[str] = Field(default_factory=lambda: ["main"])
    default_branch: str | None = None
    private: bool = False
    files: dict[str, str] = Field(default_factory=dict)


class ExpireUpload(_Body):
    temp_file_path: str


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def _faults(request: Request) -> FaultBook:
    book: FaultBook = request.app.state.faults
    return book


Emu = Annotated[Emulator, Depends(_emulator)]
Faults = Annotated[FaultBook, Depends(_faults)]

admin_router = APIRouter(prefix="/_emulator", include_in_schema=False)


@admin_router.post("/tokens")
def mint(body: MintToken, emu: Emu) -> dict[str, Any]:
    if body.user_id is not None and not body.rotate:
        with emu.ctx.store.transaction() as tx:
            live = tx.one(
                "SELECT 1 FROM tokens WHERE kind='k' AND user_id=? AND revoked=0", (body.user_id,)
            )
        if live is not None:
            raise PlatformError(
                409,
                f"user {body.user_id} already has a live dashboard token; minting another "
                'would revoke it: send "rotate": true to do that',
            )
    token = emu.mint_dashboard_token(body.user_id, body.email, body.plan)
    return {"token": token, "user_id": emu.user_of_token(token)}


@admin_router.post("/guests/{guest_id}/bind")
def bind(guest_id: str, body: BindGuest, emu: Emu) -> dict[str, Any]:
    return emu.bind_guest(guest_id, body.user_id, name=body.name)


@admin_router.get("/clock")
def clock(emu: Emu) -> dict[str, float]:
    return {"now": emu.now()}


@admin_router.post("/clock/advance")
def advance(body: Advance, emu: Emu) -> dict[str, float]:
    emu.clock.advance(body.seconds)
    return {"now": emu.now()}


@admin_router.post("/gc")
def gc(emu: Emu) -> dict[str, list[str]]:
    return emu.run_gc()


@admin_router.post("/dependencies/{dependency_id}/fail")
def fail_dependency(dependency_id: str, body: FailDependency, emu: Emu) -> dict[str, str]:
    emu.fail_dependency(dependency_id, body.reason)
    return {"id": dependency_id, "status": "failed"}


@admin_router.get("/requests")
def request_counts(faults: Faults) -> dict[str, Any]:
    counts = faults.counts()
    return {"counts": counts, "total": sum(counts.values())}


@admin_router.delete("/requests")
def reset_counts(faults: Faults) -> dict[str, str]:
    faults.reset_counts()
    return {"status": "reset"}


@admin_router.post("/faults")
def add_fault(body: FaultSpec, faults: Faults) -> dict[str, Any]:
    try:
        rule = FaultRule(**body.model_dump())
    except ValueError as exc:
        raise PlatformError(400, str(exc)) from exc
    return faults.add(rule).describe()


@admin_router.get("/faults")
def list_faults(faults: Faults) -> dict[str, Any]:
    return {"faults": faults.rules()}


@admin_router.delete("/faults")
def clear_faults(faults: Faults, emu: Emu) -> dict[str, str]:
    faults.clear()
    emu.clear_deployment_faults()
    return {"status": "cleared"}


@admin_router.delete("/faults/{fault_id}")
def remove_fault(fault_id: str, faults: Faults) -> dict[str, str]:
    if not faults.remove(fault_id):
        raise PlatformError(404, "fault not found")
    return {"status": "removed"}


@admin_router.post("/deployment-faults")
def add_deployment_fault(body: DeploymentFaultSpec, emu: Emu) -> dict[str, str]:
    try:
        fault = DeploymentFault(
            mode=body.mode,
            phase=body.phase,
            service=body.service,
            logs=tuple(body.logs),
            error_msg=body.error_msg,
            remaining=body.count,
        )
    except ValueError as exc:
        raise PlatformError(400, str(exc)) from exc
    return {"id": emu.add_deployment_fault(fault)}


@admin_router.post("/regions/{region_id}")
def set_region(region_id: str, body: RegionStatus, emu: Emu) -> dict[str, str]:
    emu.set_region_status(region_id, body.status)
    return {"id": region_id, "status": body.status}


@admin_router.post("/users/{user_id}/plan")
def set_plan(user_id: str, body: PlanChange, emu: Emu) -> dict[str, str]:
    emu.set_user_plan(user_id, body.plan, body.quota)
    return {"id": user_id}


@admin_router.post("/git-repos")
def add_git_repo(body: GitRepo, emu: Emu) -> dict[str, str]:
    emu.add_git_repo(body.url, body.model_dump(exclude={"url"}))
    return {"url": body.url}


@admin_router.post("/uploads/expire")
def expire_upload(body: ExpireUpload, emu: Emu) -> dict[str, str]:
    emu.expire_upload(body.temp_file_path)
    return {"temp_file_path": body.temp_file_path, "status": "expired"}
