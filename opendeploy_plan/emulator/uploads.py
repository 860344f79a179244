"""Uploads and a project's source: park an archive (or a registered git repository) under the
data folder, then `update-source` extracts it safely into the project's folder."""

from __future__ import annotations

import json
import re
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import Any

from opendeploy_plan.emulator.config import EmulatorConfig
from opendeploy_plan.emulator.context import Context
from opendeploy_plan.emulator.errors import PlatformError
from opendeploy_plan.emulator.regions import active_region, git_repo, validate_git
from opendeploy_plan.emulator.services import service_view
from opendeploy_plan.emulator.store import Transaction
from opendeploy_plan.emulator.tenancy import Principal, check_upload_owner, project_row


def new_upload_path(ctx: Context, filename: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[:100]
    folder = ctx.uploads_dir / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder / (safe or "source.zip")


def check_upload_form(ctx: Context, who: Principal, fields: dict[str, str]) -> None:
    if not fields.get("project_name"):
        raise PlatformError(400, "project_name is required")
    with ctx.store.transaction() as tx:
        active_region(tx, fields.get("region_id"), "invalid region")
        if not fields.get("region_id"):
            raise PlatformError(400, "invalid region: region_id is required")
        if fields.get("git_url"):
            validate_git(tx, fields["git_url"], fields.get("branch"), fields.get("git_token"))


def record_upload(
    ctx: Context, who: Principal, path: Path, filename: str, size: int, fields: dict[str, str]
) -> dict[str, Any]:
    git_url = fields.get("git_url") or ""
    branch = fields.get("branch") or ""
    if git_url:
        with ctx.store.transaction() as tx:
            branch = validate_git(tx, git_url, branch, fields.get("git_token"))
            repo = git_repo(tx, git_url)
        files = (repo or {}).get("files") or {}
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in files.items():
                archive.writestr(name, content)
        size = path.stat().st_size
        filename = git_url
    data = {
        "tenant": who.tenant,
        "filename": filename,
        "size": size,
        "git_url": git_url,
        "branch": branch,
        "is_git": bool(git_url),
    }
    with ctx.store.transaction() as tx:
        tx.execute(
            "INSERT INTO uploads VALUES (?,?,?,?)",
            (path.parent.name, str(path), json.dumps(data), ctx.now()),
        )
    return {
        "temp_file_path": str(path),
        "filename": filename,
        "git_url": git_url,
        "branch": branch,
        "is_git": bool(git_url),
        "size": size,
    }


def expire_upload(ctx: Context, temp_file_path: str) -> None:
    with ctx.store.transaction() as tx:
        tx.execute("DELETE FROM uploads WHERE path=?", (temp_file_path,))
    shutil.rmtree(Path(temp_file_path).parent, ignore_errors=True)


def update_source(
    ctx: Context,
    who: Principal,
    project_id: str,
    temp_file_path: str,
    analysis: dict[str, Any] | None,
) -> dict[str, Any]:
    now = ctx.now()
    with ctx.store.transaction() as tx:
        project = project_row(tx, who, project_id)
        upload = tx.one("SELECT * FROM uploads WHERE path=?", (temp_file_path,))
        fresh = (
            upload is not None
            and now - upload["created_at"] <= ctx.config.upload_ttl_seconds
            and Path(temp_file_path).is_file()
        )
        data = json.loads(project["data"])
        if not fresh:
            if data["source_path"]:
                return _source_result(
                    ctx, tx, project_id, data["source_path"], "Project source already up to date"
                )
            raise PlatformError(400, "Uploaded file not found or expired, please upload again")
        assert upload is not None
        check_upload_owner(who, upload)
    folder, target, original = _source_places(ctx, project_id, Path(temp_file_path))
    try:
        if original != Path(temp_file_path):
            folder.mkdir(parents=True)
            shutil.copyfile(temp_file_path, original)
        extract_zip(Path(temp_file_path), target, ctx.config)
    except PlatformError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise PlatformError(
            500, f"filesystem write failed: {exc.strerror}", service="project-service"
        ) from exc
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    with ctx.store.transaction() as tx:
        project = project_row(tx, who, project_id)
        data = json.loads(project["data"])
        old = data["source_path"]
        data["source_path"] = str(target)
        data["original_file_path"] = str(original)
        if analysis is not None:
            data["analyze_config"] = json.dumps(analysis, sort_keys=True)
        tx.execute(
            "UPDATE projects SET data=?, updated_at=?, last_activity_at=? WHERE id=?",
            (json.dumps(data), now, now, project_id),
        )
        result = _source_result(
            ctx, tx, project_id, str(target), "Project source updated successfully"
        )
    stale = Path(old).parent if Path(old).name == _EXTRACTED else Path(old)
    if old and stale.is_dir() and stale not in (target, folder):
        shutil.rmtree(stale, ignore_errors=True)
    return result


_EXTRACTED = "extracted"


def _source_places(ctx: Context, project_id: str, upload: Path) -> tuple[Path, Path, Path]:
    """(folder, extracted source, original file) of a bind.

    The documented profile does what api-schemas.md Step 4.5 says: "Copies the temp file into
    `/var/lib/minions/projects/<project_id>/<upload_uuid>/`, extracts the ZIP", so the
    project's `original_file_path` is the copy, never the upload's `temp_file_path`. The
    default profile extracts into a fresh folder and remembers the upload's own path.
    """
    if ctx.config.profile != "documented":
        target = ctx.project_dir(project_id) / uuid.uuid4().hex
        return target, target, upload
    folder = ctx.project_dir(project_id) / upload.parent.name
    shutil.rmtree(folder, ignore_errors=True)  # binding the same upload again starts afresh
    return folder, folder / _EXTRACTED, folder / upload.name


def _source_result(
    ctx: Context, tx: Transaction, project_id: str, source_path: str, message: str
) -> dict[str, Any]:
    rows = tx.all("SELECT * FROM services WHERE project_id=? ORDER BY created_at", (project_id,))
    return {
        "project_id": project_id,
        "source_path": source_path,
        "services": [service_view(ctx, tx, r) for r in rows],
        "message": message,
    }


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\\]|^[A-Za-z]:")


def _check_names(members: list[zipfile.ZipInfo]) -> None:
    """400 for a member name that is absolute, climbs out (`..`), holds a control character,
    a backslash or a drive letter, or is a file and a folder at once (`a` and `a/b`)."""
    files: set[str] = set()
    folders: set[str] = set()
    for info in members:
        name = info.filename
        parts = name.rstrip("/").split("/")
        if (
            not name.strip("/")
            or name.startswith("/")
            or _UNSAFE_NAME.search(name)
            or ".." in parts
            or "" in parts
        ):
            raise PlatformError(400, f"archive member {name!r} has an unsafe name")
        for depth in range(1, len(parts)):
            folders.add("/".join(parts[:depth]))
        (folders if info.is_dir() else files).add("/".join(parts))
    clash = files & folders
    if clash:
        raise PlatformError(400, f"archive member {sorted(clash)[0]!r} is both a file and a folder")


def check_archive_limits(
    members: list[zipfile.ZipInfo], archive_size: int, config: EmulatorConfig
) -> None:
    """400 past the caps on entries, expanded size and compression ratio (docs/emulator.md)."""
    if len(members) > config.max_archive_entries:
        raise PlatformError(
            400, f"archive has {len(members)} entries; the limit is {config.max_archive_entries}"
        )
    total = sum(info.file_size for info in members)
    if total > config.max_extracted_bytes:
        raise PlatformError(
            400,
            f"archive expands beyond the size limit ({config.max_extracted_bytes // 1024**2} MiB)",
        )
    # Small archives may compress well (text); a zip bomb is large *and* far too dense.
    if total > 16 * 1024**2 and total > archive_size * config.max_compression_ratio:
        raise PlatformError(
            400,
            f"archive expands {total // max(archive_size, 1)} times its size; the limit is "
            f"{config.max_compression_ratio}",
        )


def extract_zip(archive: Path, target: Path, config: EmulatorConfig) -> None:
    """Extract safely: no unsafe member names, no symlinks, bounded entries, size and ratio.
    A refused or broken archive is a 400 and leaves no half-extracted `target` behind."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise PlatformError(400, "uploaded file is not a valid ZIP archive") from exc
    with zf:
        members = zf.infolist()
        _check_names(members)
        check_archive_limits(members, archive.stat().st_size, config)
        existed = target.exists()
        try:
            _write_members(zf, members, target, config.max_extracted_bytes)
        except PlatformError:
            if not existed:
                shutil.rmtree(target, ignore_errors=True)
            raise
        except (zipfile.BadZipFile, ValueError, RuntimeError, NotImplementedError, EOFError) as exc:
            if not existed:
                shutil.rmtree(target, ignore_errors=True)
            raise PlatformError(400, f"archive could not be read: {exc}") from exc
        except BaseException:
            if not existed:
                shutil.rmtree(target, ignore_errors=True)
            raise


def _write_members(
    zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], target: Path, max_bytes: int
) -> None:
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    for info in members:
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            continue  # symlinks are not followed into the build context
        dest = target / info.filename
        if info.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, open(dest, "wb") as out:
            # Count what is really written: a member's declared size may lie.
            while chunk := src.read(1024 * 1024):
                written += len(chunk)
                if written > max_bytes:
                    raise PlatformError(400, "archive expands beyond the size limit")
                out.write(chunk)
