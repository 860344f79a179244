"""`project.source`: park the project's one archive (or git reference) and bind it.

Park the source (upload-only) and bind it (update-source). update-source answers "Project
source already up to date" without binding anything when the parked file has expired, and the
deployment would then build the old files under the new digest: that message is the signal
(the documents say update-source copies the upload, so the project's `original_file_path`
never equals the upload's path). Such a bind is tried once more with a new upload; if it
repeats, apply stops.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from opendeploy_plan.apply.context import ApplyContext
from opendeploy_plan.apply.errors import ApplyError, ReadBackMismatch, SourceChanged
from opendeploy_plan.gateway import UploadResult
from opendeploy_plan.plan import PlannedAction
from opendeploy_plan.source import ArchiveInfo, build_archive, select_files

__all__ = ["NOT_BOUND", "apply"]

# update-source's answer when the upload it was given is gone: it keeps the previous source.
NOT_BOUND = "already up to date"


async def apply(ctx: ApplyContext, action: PlannedAction) -> None:
    project_id = ctx.require_project()
    region = ctx.region_id or (await ctx.client.active_region()).id
    for attempt in (1, 2):
        uploaded = await _upload(ctx, action, region)
        ctx.log("deploy.upload_only", project_id=project_id, temp_file_path=uploaded.temp_file_path)
        updated = await ctx.client.update_source(
            project_id, uploaded.temp_file_path, analysis=_analysis(ctx)
        )
        project = await ctx.client.get_project(project_id)
        if not project.source_path:
            raise ReadBackMismatch(action.address, "source_path", "set", "empty")
        # The documented signal that nothing was bound (the parked upload expired): the
        # project's `original_file_path` is no proof either way, update-source copies the file.
        message = updated.message
        if NOT_BOUND not in message.lower() or ctx.desired.source.kind == "git":
            break
        if attempt == 2:
            raise ApplyError(
                "the platform kept the project's previous source: update-source did not "
                f"bind the new upload, twice (it answered: {message})",
                "Run `odplan apply` again; if it persists, the platform's upload storage "
                "is expiring files too early.",
            )
        ctx.progress(action, "the upload expired before binding; uploading again")
    ctx.temp_file_path = uploaded.temp_file_path
    ctx.log("deploy.update_source", project_id=project_id, source_path=updated.source_path)


async def _upload(ctx: ApplyContext, action: PlannedAction, region: str) -> UploadResult:
    source = ctx.desired.source
    if source.kind == "git":
        assert source.git_url is not None
        return await ctx.client.upload_git(
            source.git_url,
            project_name=ctx.desired.project,
            region_id=region,
            branch=source.branch,
            git_token=ctx.inputs.git_token,
        )
    with tempfile.TemporaryDirectory(prefix="odplan-") as scratch:
        archive = await asyncio.to_thread(_build_archive, ctx, Path(scratch))
        if archive.digest != source.digest:
            planned = ctx.inputs.planned_selection
            changes = archive.selection.changes_since(planned) if planned else []
            shown = ", ".join(changes[:5]) + (
                f" and {len(changes) - 5} more" if len(changes) > 5 else ""
            )
            raise SourceChanged(
                "the source changed between planning and packaging"
                + (f": {shown}" if shown else ""),
                "Run `odplan apply` again to plan against the current files. A file written "
                "while odplan runs (a log redirected into the project folder) changes it "
                "every time: write it elsewhere, or list it in .gitignore or .odplanignore.",
            )
        ctx.progress(action, f"uploading {archive.file_count} files ({archive.size} bytes)")
        return await ctx.client.upload_only(
            archive.path, project_name=ctx.desired.project, region_id=region
        )


def _build_archive(ctx: ApplyContext, scratch: Path) -> ArchiveInfo:
    """The project's one archive, selecting exactly the files planning digested."""
    root = ctx.inputs.manifest_dir
    selection = select_files(
        root, manifest=ctx.inputs.manifest_path, secret_files=ctx.inputs.secret_files
    )
    return build_archive(root, scratch / "source.zip", selection=selection)


def _analysis(ctx: ApplyContext) -> dict[str, Any]:
    """A best-effort local analysis for update-source, so the platform skips its own."""
    desired = ctx.desired
    return {
        "services": [
            {
                "name": name,
                "source_path": svc.source_path or ".",
                "language": svc.language or "",
                "framework": svc.framework or "",
                "project_type": svc.type,
                "port": svc.port or 0,
                "dependencies": [desired.dependencies[d].type for d in svc.uses],
            }
            for name, svc in sorted(desired.services.items())
        ]
    }
