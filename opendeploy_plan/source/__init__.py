"""Source archives: which files are uploaded, the deterministic ZIP, and the change digest.

Public surface only; the rooms behind it are private modules. Paths are POSIX and relative to
the project root (the manifest's folder); a service's subtree is a subfolder of it.
"""

from __future__ import annotations

from opendeploy_plan.source._archive import (
    UPLOAD_CONTENT_TYPE,
    UPLOAD_FILENAME,
    ArchiveInfo,
    ZipInspection,
    build_archive,
    check_user_zip,
    digest_zip,
    inspect_zip,
    temporary_archive,
)
from opendeploy_plan.source._digest import (
    DIGEST_PREFIX,
    FileDigest,
    SourceDigest,
    digest_source,
    digest_tree,
    refuse_mining,
    tree_digest,
)
from opendeploy_plan.source._errors import (
    MiningHit,
    MiningRefusal,
    SourceChangedError,
    SourceError,
    SourceOutsideRoot,
    UnsafeZipError,
)
from opendeploy_plan.source._names import shown_path, unsafe_name_reason
from opendeploy_plan.source._select import (
    SelectedFile,
    Selection,
    SelectionWarning,
    normalize_subpath,
    select_files,
    service_subpaths,
)

__all__ = [
    "DIGEST_PREFIX",
    "UPLOAD_CONTENT_TYPE",
    "UPLOAD_FILENAME",
    "ArchiveInfo",
    "FileDigest",
    "MiningHit",
    "MiningRefusal",
    "SelectedFile",
    "Selection",
    "SelectionWarning",
    "SourceChangedError",
    "SourceDigest",
    "SourceError",
    "SourceOutsideRoot",
    "UnsafeZipError",
    "ZipInspection",
    "build_archive",
    "check_user_zip",
    "digest_source",
    "digest_tree",
    "digest_zip",
    "inspect_zip",
    "normalize_subpath",
    "refuse_mining",
    "select_files",
    "service_subpaths",
    "shown_path",
    "temporary_archive",
    "tree_digest",
    "unsafe_name_reason",
]
