"""Issue 17 items 3 and 8 in the source room: credentials found by name and by content stay
home (the digest, the archive and the listing agree on it), hard links to secrets too, unsafe
names are refused, printed names are escaped and large files are warned about."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from opendeploy_plan.source import (
    SourceError,
    build_archive,
    digest_source,
    inspect_zip,
    select_files,
    shown_path,
    unsafe_name_reason,
)
from opendeploy_plan.source._scan import SECRET_SCAN_BYTES, secret_content

BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0"
PEM = f"-----BEGIN EC PRIVATE KEY-----\n{BODY}\n-----END EC PRIVATE KEY-----\n"


def _tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    return root


@pytest.mark.parametrize(
    "path",
    [
        ".aws/credentials",
        ".ssh/id_ed25519",
        ".ssh/config",
        ".docker/config.json",
        ".kube/config",
        ".git-credentials",
        "deploy/terraform.tfvars",
        "infra/prod.tfstate",
        "chart/secrets.yaml",
        "gcp-sa.json",
        "keys/id_ecdsa",
        "certs/site.p12",
    ],
)
def test_credential_files_stay_home_by_name(tmp_path: Path, path: str) -> None:
    root = _tree(tmp_path, {"app.py": "x = 1\n", path: "secret\n"})

    selection = select_files(root)

    assert [f.path for f in selection.files] == ["app.py"]
    kept = [p for p in selection.excluded_secrets if path.startswith(p)]
    assert kept, selection.excluded_secrets
    assert selection.why(kept[0]).startswith("matches ")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (PEM, "holds a PEM private key (EC PRIVATE KEY)"),
        (f"-----BEGIN PRIVATE KEY-----\n{BODY}\n", "holds a PEM private key (PRIVATE KEY)"),
        (
            json.dumps({"type": "service_account", "private_key": PEM}),
            'holds a service-account key ("type": "service_account")',
        ),
        (
            "[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
            "holds AWS credentials (aws_secret_access_key)",
        ),
    ],
    ids=["pem-ec", "pkcs8", "service-account", "aws"],
)
def test_credentials_stay_home_by_content_in_digest_archive_and_listing(
    tmp_path: Path, content: str, reason: str
) -> None:
    root = _tree(tmp_path / "src", {"app.py": "x = 1\n", "docs/notes.txt": content})

    digest = digest_source(root, racy_window_ns=0)
    archive = build_archive(root, tmp_path / "out.zip")

    assert [f.path for f in digest.selection.files] == ["app.py"]
    assert digest.selection.why("docs/notes.txt") == reason
    assert archive.selection.why("docs/notes.txt") == reason
    assert archive.digest == digest.digest, "what is uploaded is what was planned"
    with zipfile.ZipFile(tmp_path / "out.zip") as written:
        assert written.namelist() == ["app.py"]
    again = digest_source(root, racy_window_ns=0)  # warm: from the digest cache
    assert again.cache_hits == 2
    assert again.digest == digest.digest
    assert again.selection.why("docs/notes.txt") == reason


def test_a_key_header_without_key_material_is_not_a_key() -> None:
    assert secret_content(b"A key file starts with -----BEGIN RSA PRIVATE KEY----- .\n") is None
    assert secret_content(b"-----BEGIN RSA PRIVATE KEY-----\n...\n-----END") is None


def test_the_content_check_is_bounded_to_the_first_mib(tmp_path: Path) -> None:
    late = b"x" * SECRET_SCAN_BYTES + PEM.encode()
    root = _tree(tmp_path / "src", {"early.bin": PEM.encode() + b"x" * 10, "late.bin": late})

    selection = digest_source(root).selection

    assert [f.path for f in selection.files] == ["late.bin"]
    assert selection.excluded_secrets == ("early.bin",)


def test_a_hard_link_to_a_secret_stays_home(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"app.py": "x = 1\n", ".env": "TOKEN=abc\n"})
    os.link(root / ".env", root / "notes.txt")
    os.link(root / "app.py", root / "app-copy.py")  # a hard link between two sources is fine

    selection = select_files(root)

    assert [f.path for f in selection.files] == ["app-copy.py", "app.py"]
    assert selection.why("notes.txt") == "hard link to .env"


def test_a_user_zip_holding_a_key_lists_it_as_a_secret(tmp_path: Path) -> None:
    path = tmp_path / "user.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", "x = 1\n")
        archive.writestr("notes.txt", PEM)

    assert inspect_zip(path).secrets == ("notes.txt",)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("back\\..\\..\\evil.txt", "a backslash"),
        ("two\nlines.txt", "the control character U+000A"),
        ("bell\x07.txt", "the control character U+0007"),
        ("gpj\u202e.exe", "the bidirectional control U+202E"),
        ("isolate\u2066.txt", "the bidirectional control U+2066"),
    ],
)
def test_an_unsafe_name_is_refused_with_its_escaped_name(
    tmp_path: Path, name: str, reason: str
) -> None:
    root = _tree(tmp_path, {"app.py": "x = 1\n", f"sub/{name}": "x\n"})

    with pytest.raises(SourceError) as raised:
        select_files(root)

    message = str(raised.value)
    assert f"sub/{shown_path(name)}: contains {reason}" in message
    assert "\n  sub/" in message and name not in message.replace(shown_path(name), "")
    assert unsafe_name_reason(f"sub/{name}") is not None


def test_an_ignored_unsafe_name_is_not_refused(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"app.py": "x\n", "tmp/a\\b": "x\n", ".odplanignore": "tmp/\n"})

    assert [f.path for f in select_files(root).files] == [".odplanignore", "app.py"]


def test_ordinary_unicode_names_are_fine_and_printed_as_they_are() -> None:
    for name in ("café/menu.txt", "日本語.md", "a b/c-d_e.txt"):
        assert unsafe_name_reason(name) is None
        assert shown_path(name) == name
    assert shown_path("a\u200bb") == "a\\u200bb"  # zero-width space: invisible, so escaped
    # Line and paragraph separators start a new line in many terminals: a forged line.
    assert shown_path("a\u2028b") == "a\\u2028b"
    assert shown_path("a\u2029b") == "a\\u2029b"


def test_a_large_sparse_file_is_warned_about(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"app.py": "x\n"})
    with open(root / "disk.img", "wb") as sparse:
        sparse.truncate(100 * 1024 * 1024)

    warnings = select_files(root).warnings

    assert [(w.path, w.code) for w in warnings] == [("disk.img", "large-file")]
    assert "100 MiB, sparse" in warnings[0].message
