"""Secret names in any case, Windows separators in ZIPs, and what a name may hold (mutation
audit, round 6). Real trees and real ZIP files in a temporary folder.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from opendeploy_plan.source import (
    UnsafeZipError,
    build_archive,
    check_user_zip,
    inspect_zip,
    select_files,
    shown_path,
    unsafe_name_reason,
)


def _tree(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {name}\n")


def _zip(path: Path, *names: str) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.writestr(name, "x = 1\n")
    return path


@pytest.mark.parametrize(
    "name",
    [
        ".ENV",
        ".Env",
        ".ENV.PRODUCTION",
        ".env.Local",
        ".NPMRC",
        ".PyPIrc",
        ".NETRC",
        "Server.PEM",
        "tls.Key",
        "ID_RSA",
        "Id_Rsa.pub",
        "ID_ED25519",
        "Credentials.JSON",
        "Service-Account-prod.Json",
        "prod.KUBECONFIG.yaml",
    ],
)
def test_a_secret_name_in_any_case_stays_home(tmp_path: Path, name: str) -> None:
    _tree(tmp_path, "app.py", name, f"sub/{name}")
    selection = select_files(tmp_path)
    assert [f.path for f in selection.files] == ["app.py"]
    assert set(selection.excluded_secrets) == {name, f"sub/{name}"}


@pytest.mark.parametrize("folder", [".ENV", "Secrets.KEY"])
def test_everything_under_a_secret_named_folder_stays_home(tmp_path: Path, folder: str) -> None:
    _tree(tmp_path, "app.py", f"{folder}/plain.txt")
    selection = select_files(tmp_path)
    assert [f.path for f in selection.files] == ["app.py"]


@pytest.mark.parametrize("name", ["env.txt", ".envrc", "my.env.example.md", "keys.py", "rsa.txt"])
def test_names_near_a_secret_pattern_are_uploaded(tmp_path: Path, name: str) -> None:
    _tree(tmp_path, name)
    assert [f.path for f in select_files(tmp_path).files] == [name]


def test_a_symlink_named_innocently_to_a_secret_stays_home(tmp_path: Path) -> None:
    _tree(tmp_path, "app.py", ".ENV")
    os.symlink(".ENV", tmp_path / "settings.txt")
    selection = select_files(tmp_path)
    assert [f.path for f in selection.files] == ["app.py"]
    assert "settings.txt" in selection.excluded_secrets


def test_a_hard_link_to_a_secret_stays_home(tmp_path: Path) -> None:
    _tree(tmp_path, "app.py", ".env")
    os.link(tmp_path / ".env", tmp_path / "notes.txt")
    selection = select_files(tmp_path)
    assert [f.path for f in selection.files] == ["app.py"]
    assert selection.why("notes.txt") == "hard link to .env"


# --- user ZIPs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["config\\.env", "deploy\\ID_RSA", "a\\b\\.ENV.local", ".ENV", "keys/Server.PEM"]
)
def test_a_zip_entry_naming_a_secret_is_found_whatever_its_separator_or_case(
    tmp_path: Path, name: str
) -> None:
    inspection = inspect_zip(_zip(tmp_path / "u.zip", "app.py", name))
    assert inspection.secrets == (name,)
    with pytest.raises(UnsafeZipError):
        check_user_zip(tmp_path / "u.zip")
    assert check_user_zip(tmp_path / "u.zip", allow_secrets=True).secrets == (name,)


@pytest.mark.parametrize(
    "name",
    [
        "..\\evil.py",
        "a\\..\\..\\evil.py",
        "C:\\evil.py",
        "c:evil.py",
        "\\abs.py",
        "/abs.py",
        "a/../../b.py",
    ],
)
def test_a_zip_entry_that_would_extract_elsewhere_is_unsafe(tmp_path: Path, name: str) -> None:
    inspection = inspect_zip(_zip(tmp_path / "u.zip", "app.py", name))
    assert inspection.unsafe_paths == (name,)
    with pytest.raises(UnsafeZipError):
        check_user_zip(tmp_path / "u.zip", allow_secrets=True)


@pytest.mark.parametrize("name", ["a..b.py", "dir/..hidden", "ab:c.py", "..x.py"])
def test_dots_and_colons_inside_a_name_are_safe(tmp_path: Path, name: str) -> None:
    inspection = inspect_zip(_zip(tmp_path / "u.zip", name))
    assert inspection.unsafe_paths == ()
    assert inspection.entries == (name,)


# --- names ----------------------------------------------------------------------------------------


def test_a_backslash_or_control_in_a_name_is_refused_and_shown_escaped() -> None:
    assert unsafe_name_reason("a\\b.py") is not None and "backslash" in str(
        unsafe_name_reason("a\\b.py")
    )
    assert unsafe_name_reason("a\nb.py") == "the control character U+000A"
    assert unsafe_name_reason("a\u202eb.py") is not None
    assert unsafe_name_reason("caf\u00e9.py") is None
    assert shown_path("a\nb") == "a\\nb"
    assert shown_path("x\u202ey") == "x\\u202ey"
    assert shown_path("caf\u00e9") == "caf\u00e9"


def test_an_archive_entry_keeps_the_executable_bit_and_nothing_else(tmp_path: Path) -> None:
    _tree(tmp_path / "src", "run.sh", "lib.py")
    (tmp_path / "src" / "run.sh").chmod(0o775)
    (tmp_path / "src" / "lib.py").chmod(0o600)
    info = build_archive(tmp_path / "src", tmp_path / "out.zip")
    with zipfile.ZipFile(info.path) as zf:
        modes = {i.filename: (i.external_attr >> 16) & 0o7777 for i in zf.infolist()}
        assert all(i.create_system == 3 for i in zf.infolist())
    assert modes == {"lib.py": 0o644, "run.sh": 0o755}
    assert (info.path.stat().st_mode & 0o777) == 0o644
