"""The archive: deterministic ZIP bytes, refusals, and user-supplied ZIP checks."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from opendeploy_plan.platform import MINING_MARKERS
from opendeploy_plan.source import (
    MiningRefusal,
    UnsafeZipError,
    build_archive,
    check_user_zip,
    digest_source,
    digest_zip,
    inspect_zip,
    refuse_mining,
    temporary_archive,
)
from opendeploy_plan.source._scan import scan_stream
from tests.source.conftest import set_mtime, write_tree

MakeTree = Callable[..., Path]
FILES: dict[str, str | bytes] = {
    "services/api/main.py": "print('api')\n",
    "services/api/start.sh": "#!/bin/sh\nexec python main.py\n",
    "web/index.html": "<h1>hi</h1>\n" * 100,
    "web/logo.png": b"\x89PNG\r\n" + bytes(range(256)),
    "opendeploy.yaml": "version: 1\n",
}
# The manifest is configuration, not source: it is never in the archive.
UPLOADED = sorted(path for path in FILES if path != "opendeploy.yaml")


def _checkout(root: Path, files: dict[str, str | bytes], mtime: int, umask: int) -> Path:
    old = os.umask(umask)
    try:
        write_tree(root, files)
        os.chmod(root / "services/api/start.sh", 0o755 & ~umask)
    finally:
        os.umask(old)
    for path in root.rglob("*"):
        set_mtime(path, mtime)
    return root


def test_two_checkouts_with_different_mtimes_give_identical_bytes(tmp_path: Path) -> None:
    one = _checkout(tmp_path / "one", FILES, mtime=1_500_000_000, umask=0o022)
    two = _checkout(tmp_path / "two", dict(reversed(FILES.items())), mtime=86_400, umask=0o077)
    first = build_archive(one, tmp_path / "one.zip")
    second = build_archive(two, tmp_path / "two.zip")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256
    assert first.digest == second.digest


def test_entries_are_sorted_with_fixed_time_and_normalized_modes(make_tree: MakeTree) -> None:
    root = _checkout(make_tree({}), FILES, mtime=1_700_000_000, umask=0o027)
    info = build_archive(root, root.parent / "out.zip")
    with zipfile.ZipFile(info.path) as zf:
        entries = zf.infolist()
        assert [e.filename for e in entries] == UPLOADED
        assert {e.date_time for e in entries} == {(1980, 1, 1, 0, 0, 0)}
        modes = {e.filename: e.external_attr >> 16 for e in entries}
        assert modes["services/api/start.sh"] == 0o100755
        assert modes["web/index.html"] == 0o100644
        assert zf.getinfo("web/logo.png").compress_type == zipfile.ZIP_STORED
        assert zf.getinfo("web/index.html").compress_type == zipfile.ZIP_DEFLATED
        assert zf.read("web/index.html") == str(FILES["web/index.html"]).encode()
    assert info.file_count == len(UPLOADED)
    assert info.size == info.path.stat().st_size


def test_unzip_restores_the_executable_bit(make_tree: MakeTree, tmp_path: Path) -> None:
    if shutil.which("unzip") is None:
        pytest.skip("needs unzip")
    root = _checkout(make_tree({}), FILES, mtime=1_700_000_000, umask=0o022)
    info = build_archive(root, tmp_path / "out.zip")
    out = tmp_path / "extracted"
    subprocess.run(["unzip", "-q", str(info.path), "-d", str(out)], check=True)
    assert os.stat(out / "services/api/start.sh").st_mode & stat.S_IXUSR
    assert digest_source(out, use_cache=False).digest == info.digest


def test_temporary_archive_is_removed_and_can_be_streamed(make_tree: MakeTree) -> None:
    root = make_tree(FILES)
    with temporary_archive(root, {"api": "services/api"}) as info:
        with info.multipart_file() as (filename, stream, content_type):
            assert (filename, content_type) == ("source.zip", "application/zip")
            data = stream.read()
        assert zipfile.ZipFile(io.BytesIO(data)).namelist() == UPLOADED
        path = info.path
    assert not path.exists()
    assert not path.parent.exists()


def _marker(index: int) -> str:
    return MINING_MARKERS[index]


def test_mining_markers_refuse_the_archive_and_leave_nothing_behind(make_tree: MakeTree) -> None:
    root = make_tree({**FILES, "tools/run.sh": f"./{_marker(0).upper()} --donate-level 1\n"})
    dest = root.parent / "out.zip"
    with pytest.raises(MiningRefusal) as refused:
        build_archive(root, dest)
    assert str(refused.value).startswith("Refusing to deploy: tools/run.sh contains")
    assert str(refused.value).count(".") >= 1 and "\n" not in str(refused.value)
    assert not dest.exists()
    assert list(root.parent.glob(".out.zip.*")) == []
    with pytest.raises(MiningRefusal):
        refuse_mining(root)


@pytest.mark.parametrize("marker", MINING_MARKERS)
def test_every_marker_is_found_case_insensitively(make_tree: MakeTree, marker: str) -> None:
    root = make_tree({"a.txt": f"pool = {marker.swapcase()}.example\n"})
    hits = digest_source(root, use_cache=False).mining
    assert ("a.txt", marker) in {(h.path, h.marker) for h in hits}  # cgminer holds gminer too


def test_markers_split_across_read_chunks_are_found() -> None:
    marker = _marker(len(MINING_MARKERS) - 1).encode()
    for cut in range(1, len(marker)):
        data = b"x" * (64 - cut) + marker + b"y" * 10
        assert scan_stream(io.BytesIO(data), chunk_size=64).markers, cut
    tiny = scan_stream(io.BytesIO(b"..." + marker), chunk_size=3)
    assert tiny.markers == (marker.decode(),)


def test_markers_in_files_that_are_not_uploaded_do_not_refuse(make_tree: MakeTree) -> None:
    root = make_tree({**FILES, "node_modules/x/README": _marker(0), ".env": _marker(1)})
    refuse_mining(root)


def _zip(path: Path, names: list[str], content: bytes = b"x") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.writestr(name, content)
    return path


def test_a_user_zip_with_env_or_credential_files_is_refused_with_the_list(tmp_path: Path) -> None:
    path = _zip(tmp_path / "user.zip", ["app.py", ".env", "conf/.env.production", "k/id_rsa"])
    with pytest.raises(UnsafeZipError) as refused:
        check_user_zip(path)
    assert refused.value.entries == [".env", "conf/.env.production", "k/id_rsa"]
    assert "Provide a sanitized ZIP or explicitly approve" in str(refused.value)
    approved = check_user_zip(path, allow_secrets=True)
    assert approved.secrets == (".env", "conf/.env.production", "k/id_rsa")


def test_a_user_zip_escaping_its_folder_is_always_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "slip.zip", ["ok.py", "../evil.sh", "/etc/cron.d/x"])
    with pytest.raises(UnsafeZipError) as refused:
        check_user_zip(path, allow_secrets=True)
    assert refused.value.entries == ["../evil.sh", "/etc/cron.d/x"]


def test_windows_separators_and_drives_escape_too(tmp_path: Path) -> None:
    # A ZIP made on Windows may use backslashes; an extractor that honours them would write
    # outside the folder just the same.
    escaping = ["..\\..\\etc\\x", "sub/..\\..\\y", "\\abs\\z", "C:\\Windows\\w", "d:/v"]
    harmless = ["ok.py", "dir\\file.txt", "a..b/c..", "..hidden"]
    path = _zip(tmp_path / "win.zip", [*harmless, *escaping])
    with pytest.raises(UnsafeZipError) as refused:
        check_user_zip(path, allow_secrets=True)
    assert refused.value.entries == sorted(escaping)
    assert inspect_zip(_zip(tmp_path / "fine.zip", harmless)).unsafe_paths == ()


def test_a_user_zip_with_mining_markers_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "m.zip", ["miner.cfg"], f"url={_marker(6)}pool:3333".encode())
    with pytest.raises(MiningRefusal, match=r"miner\.cfg contains the crypto-mining marker"):
        check_user_zip(path)


def test_a_file_that_is_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "source.tar.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00not a zip")
    with pytest.raises(Exception, match=r"not a readable ZIP archive.*ZIP only"):
        inspect_zip(path)


def test_digest_zip_of_a_foreign_zip_ignores_folder_entries_and_order(tmp_path: Path) -> None:
    a = tmp_path / "a.zip"
    with zipfile.ZipFile(a, "w") as zf:
        zf.writestr("src/", b"")
        zf.writestr("src/b.py", b"b")
        zf.writestr("a.py", b"a")
    b = _zip(tmp_path / "b.zip", [])
    with zipfile.ZipFile(b, "w") as zf:
        zf.writestr("a.py", b"a")
        zf.writestr("src/b.py", b"b")
    assert digest_zip(a) == digest_zip(b)


_SKILL_AWK = r"""
{ path=$0 }
path ~ /(^|\/)\.env($|[.\/])/ ||
path ~ /(^|\/)\.(npmrc|pypirc|netrc)$/ ||
path ~ /(^|\/)(id_rsa|id_rsa\.pub|id_ed25519|id_ed25519\.pub)$/ ||
path ~ /\.(pem|key)$/ ||
path ~ /(^|\/)(credentials\.json|service-account.*\.json)$/ ||
path ~ /kubeconfig/ { print path }
"""
_CANDIDATES = [
    ".env", "a/.env", ".env.local", "a/.env.x/y", ".envrc", "env", ".npmrc", "x.npmrc",
    ".pypirc", "a/.netrc", "id_rsa", "id_rsa.pub", "d/id_ed25519", "id_ed25519.pub",
    "id_rsa_old", "cert.pem", "a.key", "keys/a.key.txt", "credentials.json",
    "my-credentials.json", "service-account.json", "service-account-ci.json", "kubeconfig",
    "k8s/kubeconfig.yaml", "app/main.py", "README.md", "pem", "monkey",
]  # fmt: skip


@pytest.mark.skipif(shutil.which("awk") is None, reason="needs awk")
def test_zip_inspection_flags_everything_the_skills_awk_filter_flags(tmp_path: Path) -> None:
    awk = subprocess.run(
        ["awk", _SKILL_AWK], input="\n".join(_CANDIDATES) + "\n", capture_output=True, text=True
    )
    flagged_by_skill = set(awk.stdout.split())
    assert flagged_by_skill  # the filter ran
    found = inspect_zip(_zip(tmp_path / "c.zip", _CANDIDATES))
    assert flagged_by_skill <= set(found.secrets)
    assert not {"app/main.py", "README.md", "pem", "monkey", "env"} & set(found.secrets)
