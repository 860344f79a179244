"""Load → resolve → refresh → plan: the pipeline `odplan plan` and `odplan apply` share."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from opendeploy_plan.diagnostics import Diagnostic, has_errors
from opendeploy_plan.engine.desired import AUTO_REGION, RegionChoice, Resolution, resolve_desired
from opendeploy_plan.gateway import GatewayClient
from opendeploy_plan.manifest import LoadResult, load_manifest, manifest_digest
from opendeploy_plan.plan import DesiredState, Plan, PlanOptions, make_plan
from opendeploy_plan.plan.destroy import make_destroy_plan
from opendeploy_plan.state.hints import refresh_with_hints
from opendeploy_plan.state.model import ObservedState


@dataclass
class Prepared:
    """Everything one planning pass produced. `plan` is None when loading or resolving failed
    (then `diagnostics` holds at least one error)."""

    manifest_path: Path
    load: LoadResult
    diagnostics: list[Diagnostic] = field(default_factory=list)
    resolution: Resolution | None = None
    observed: ObservedState | None = None
    plan: Plan | None = None

    @property
    def ok(self) -> bool:
        return self.plan is not None and not has_errors(self.diagnostics)

    @property
    def manifest_digest(self) -> str:
        return manifest_digest(self.manifest_path)


def load(manifest_path: Path, environment: str | None, *, check_sources: bool = True) -> Prepared:
    """Read and check the manifest (no network). `environment` None means the manifest's own,
    overridden by `OD_ENVIRONMENT` when that is set. `check_sources=False`: for commands that
    only need names (destroy, day two), a missing source folder is not an error."""
    chosen = environment or os.environ.get("OD_ENVIRONMENT") or None
    result = load_manifest(manifest_path, chosen, check_sources=check_sources)
    return Prepared(manifest_path, result, list(result.diagnostics))


async def prepare(
    client: GatewayClient,
    prepared: Prepared,
    options: PlanOptions,
    *,
    process_env: Mapping[str, str] | None = None,
    destroy: bool = False,
    reuse_listings: bool = False,
) -> Prepared:
    """Resolve the loaded manifest, refresh live state and plan (or, with `destroy`, plan the
    deletion of what the manifest manages). Mutates and returns `prepared`. `reuse_listings`:
    see `resolve_desired` (True only for commands that upload nothing)."""
    manifest = prepared.load.manifest
    if manifest is None or has_errors(prepared.diagnostics):
        return prepared
    regions = None
    if manifest.project.region != AUTO_REGION and not destroy:
        regions = [
            RegionChoice(r.id, r.code, r.name, r.status == "active") for r in await client.regions()
        ]
    resolution = resolve_desired(
        manifest,
        prepared.load.manifest_dir,
        prepared.load.environment,
        process_env=os.environ if process_env is None else process_env,
        regions=regions,
        manifest_file=str(prepared.manifest_path),
        names_only=destroy,
        reuse_listings=reuse_listings,
        locate=prepared.load.locate,
    )
    prepared.resolution = resolution
    prepared.diagnostics.extend(resolution.diagnostics)
    if resolution.desired is None:
        return prepared
    desired = resolution.desired
    prepared.observed = await refresh_with_hints(
        client,
        prepared.load.manifest_dir,
        desired.project,
        desired.environment,
        wanted=desired.dependencies,
        recreate_unhanded=not destroy,
    )
    planner: Callable[[DesiredState, ObservedState, PlanOptions], Plan] = (
        make_destroy_plan if destroy else make_plan
    )
    prepared.plan = planner(resolution.desired, prepared.observed, options)
    prepared.diagnostics.extend(prepared.plan.diagnostics)
    return prepared
