"""The source room's public surface, pinned: plan and apply import exactly these names."""

from __future__ import annotations

import opendeploy_plan.source as source


def test_public_names_are_pinned() -> None:
    assert set(source.__all__) == {
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
    }
    assert all(hasattr(source, name) for name in source.__all__)


def test_errors_share_one_root() -> None:
    for name in ("SourceOutsideRoot", "MiningRefusal", "UnsafeZipError", "SourceChangedError"):
        assert issubclass(getattr(source, name), source.SourceError)
    assert issubclass(source.SourceOutsideRoot, ValueError)
