"""`odplan package`: show exactly what would be uploaded, its digests, and write the archive.

Like `npm pack --dry-run`: a user can check that nothing secret leaves the machine. Exit 0 when
fine, 1 on a manifest error, a refusal (mining markers, unsafe ZIP) or an unreadable source.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import click

from opendeploy_plan.cli.options import fail

if TYPE_CHECKING:
    from opendeploy_plan.cli.views.package import PackageView
    from opendeploy_plan.manifest import Manifest
    from opendeploy_plan.source import SelectionWarning


def _redacted_url(url: str) -> str:
    """A git URL without any `user:token@` part: credentials are never shown."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _load(file: str, environment: str | None) -> Manifest:
    from opendeploy_plan.manifest import load_manifest

    result = load_manifest(file, environment)
    for diagnostic in result.diagnostics:
        click.echo(diagnostic.format_long(), err=True)
    if result.manifest is None:
        fail(f"{file}: fix the manifest first (see `odplan validate -f {file}`)")
    return result.manifest


def _warning_lines(warnings: tuple[SelectionWarning, ...]) -> list[str]:
    from opendeploy_plan.source import shown_path

    return [f"warning: {shown_path(w.path)}: {w.message}" for w in warnings]


@click.command()
@click.argument("service", required=False)
@click.option("--list", "show_list", is_flag=True, help="List every file that would be uploaded.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the project's archive (ZIP) to this file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "-f",
    "--file",
    "file",
    default="opendeploy.yaml",
    show_default=True,
    help="The manifest; its folder is the project's source.",
)
@click.option(
    "-e",
    "--environment",
    envvar="OD_ENVIRONMENT",
    default=None,
    help="production or staging (default: the manifest's). Env: OD_ENVIRONMENT.",
)
@click.option(
    "--inspect-zip",
    "inspect_zip",
    type=click.Path(dir_okay=False),
    default=None,
    help="Check a ZIP you built yourself instead: secrets, unsafe paths, mining markers.",
)
@click.option(
    "--allow-secrets",
    is_flag=True,
    help="With --inspect-zip: approve env/credential files inside that ZIP.",
)
def package(
    service: str | None,
    show_list: bool,
    output: str | None,
    as_json: bool,
    file: str,
    environment: str | None,
    inspect_zip: str | None,
    allow_secrets: bool,
) -> None:
    """Show what would be uploaded for the project (or SERVICE's folder) and its digests.

    The archive is the manifest's folder, minus secrets (.env*, keys, credentials), VCS
    folders, build outputs and what .gitignore / .odplanignore exclude. SERVICE narrows the
    listing and digest to that service's `source`; -o always writes the whole project's
    archive, because that is what the platform receives.
    """
    from opendeploy_plan.cli.views.package import package_view
    from opendeploy_plan.source import SourceError

    view = package_view(as_json=as_json)
    try:
        if inspect_zip is not None:
            _inspect(inspect_zip, allow_secrets, view, show_list)
            return
        _package(service, show_list, output, view, file, environment)
    except SourceError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))


def _inspect(path: str, allow_secrets: bool, view: PackageView, show_list: bool) -> None:
    from opendeploy_plan.source import check_user_zip

    found = check_user_zip(path, allow_secrets=allow_secrets)
    document: dict[str, Any] = {
        "zip": path,
        "digest": found.digest,
        "file_count": len(found.entries),
        "approved_secrets": list(found.secrets),
    }
    if show_list:
        document["files"] = list(found.entries)
    view.inspected(document)


def _package(
    service: str | None,
    show_list: bool,
    output: str | None,
    view: PackageView,
    file: str,
    environment: str | None,
) -> None:
    from opendeploy_plan.cli.views.package import PackageSummary
    from opendeploy_plan.engine.desired import env_file_paths
    from opendeploy_plan.manifest import GitSource
    from opendeploy_plan.source import (
        build_archive,
        digest_source,
        normalize_subpath,
        select_files,
    )

    manifest = _load(file, environment)
    root = Path(file).absolute().parent
    local: dict[str, str] = {}
    remote: dict[str, GitSource] = {}
    for name, spec in manifest.services.items():
        if isinstance(spec.source, GitSource):
            remote[name] = spec.source
        else:
            local[name] = str(spec.source)
    if service is not None and service not in manifest.services:
        known = ", ".join(sorted(manifest.services)) or "none"
        fail(f"no service {service!r} in {file} (services: {known})")
    if service is not None and service in remote:
        url = _redacted_url(remote[service].git)
        fail(f"service {service!r} builds from git ({url}); it has no local source to package")

    archive = None
    chosen = select_files(
        root, manifest=file, secret_files=env_file_paths(manifest, manifest.environment)
    )
    if output is not None:
        archive = build_archive(root, output, local, selection=chosen)
        selection = archive.selection
        project_digest, service_digests = archive.digest, dict(archive.services)
    else:
        result = digest_source(root, local, selection=chosen)
        result.refuse_mining()
        selection = result.selection
        project_digest, service_digests = result.digest, dict(result.services)

    listed = selection.files
    if service is not None and normalize_subpath(local[service]):
        head = normalize_subpath(local[service]) + "/"
        listed = tuple(f for f in selection.files if f.path.startswith(head))
    warnings = list(_warning_lines(selection.warnings))
    if archive is not None and _inside(archive.path, root):
        warnings.append(
            f"warning: {archive.path.relative_to(root)} is inside the project folder and would "
            "be uploaded next time; write it under .opendeploy/ or add it to .odplanignore"
        )
    for line in warnings:
        click.echo(line, err=True)

    names = [service] if service is not None else sorted(manifest.services)
    services_json: dict[str, Any] = {}
    for name in names:
        if name in remote:
            services_json[name] = {
                "source": {"git": _redacted_url(remote[name].git), "branch": remote[name].branch},
                "digest": None,
            }
            continue
        sub = normalize_subpath(local[name])
        part = selection.subtree(sub)
        services_json[name] = {
            "source": sub or ".",
            "digest": service_digests[name],
            "file_count": len(part.files),
            "size": part.total_size,
        }

    document: dict[str, Any] = {
        "manifest": file,
        "root": str(root),
        "digest": project_digest,
        "file_count": len(selection.files),
        "size": selection.total_size,
        "services": services_json,
        "excluded_secrets": list(selection.excluded_secrets),
        "kept_home": [
            {"path": path, "reason": selection.why(path)} for path in selection.excluded_secrets
        ],
        "warnings": [
            {"path": w.path, "code": w.code, "message": w.message} for w in selection.warnings
        ],
        "archive": None,
    }
    if service is not None:
        document["service"] = service
    if show_list:
        document["files"] = [
            {"path": f.path, "size": f.size, "mode": f"{f.mode:o}"} for f in listed
        ]
    if archive is not None:
        document["archive"] = {
            "path": str(archive.path),
            "size": archive.size,
            "sha256": archive.sha256,
            "digest": archive.digest,
        }
    view.packaged(
        PackageSummary(
            document,
            output=output,
            archive_file_count=archive.file_count if archive is not None else 0,
        )
    )


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return not os.path.relpath(path, root).startswith(".opendeploy" + os.sep)
