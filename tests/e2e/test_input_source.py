"""Issue 17, items 3 and 8, through the real CLI over real HTTP: credentials never reach the
gateway whatever their names (a canary planted in each is searched for in everything the
gateway stored), `package --list` says why each stayed home, unsafe names are refused before
anything is uploaded, names are escaped when printed, and large files are warned about."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.apply_support import (
    CANARY,
    Odplan,
    RealGateway,
    assert_no_canary,
    describe,
    real_gateway,
    write_shop,
)

# Key material: a base64 body follows the header, as in a real key file.
_BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{_BODY}\n{CANARY}\n-----END RSA PRIVATE KEY-----\n"
OPENSSH = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{_BODY}\n{CANARY}\n"


@pytest.fixture
def gateway_files(tmp_path: Path) -> Path:
    return tmp_path / "gateway-files"


@pytest.fixture
def gateway(gateway_files: Path) -> Iterator[RealGateway]:
    with real_gateway(data_dir=str(gateway_files)) as running:
        yield running


@pytest.fixture
def odplan(gateway: RealGateway, tmp_path: Path) -> Odplan:
    home = tmp_path / "home"
    home.mkdir()
    return Odplan(gateway, home, write_shop(tmp_path / "app"))


def _package(odplan: Odplan, *args: str) -> subprocess.CompletedProcess[str]:
    """`odplan package` (it talks to no gateway, so takes no --gateway)."""
    return subprocess.run(
        [sys.executable, "-m", "opendeploy_plan", "package", *args, "-f", str(odplan.manifest)],
        capture_output=True,
        text=True,
        env=odplan.env,
        cwd=odplan.manifest.parent,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _plant_credentials(root: Path) -> dict[str, str]:
    """Every credential of the issue, each holding the canary; returns path -> expected why."""
    files = {
        ".aws/credentials": f"[default]\naws_secret_access_key = {CANARY}\n",
        ".ssh/id_ed25519": OPENSSH,
        ".docker/config.json": json.dumps({"auths": {"x": {"auth": CANARY}}}),
        ".git-credentials": f"https://user:{CANARY}@github.com\n",
        "api/gcp-sa.json": json.dumps(
            {"type": "service_account", "private_key": PEM, "client_email": CANARY}
        ),
        "api/config/deploy-account.json": json.dumps(
            {"type": "service_account", "private_key": PEM}
        ),
        "worker/innocent.txt": PEM,
        "terraform.tfvars": f'token = "{CANARY}"\n',
        "admin/secrets.yaml": f"token: {CANARY}\n",
        ".env": f"SHOP_API_TOKEN={CANARY}\n",
    }
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    os.link(root / ".env", root / "api" / "notes.txt")
    return {
        ".aws": "matches .aws",
        ".ssh": "matches .ssh",
        ".docker": "matches .docker",
        ".git-credentials": "matches .git-credentials",
        "api/gcp-sa.json": "matches *-sa.json",
        "api/config/deploy-account.json": "holds a service-account key",
        "worker/innocent.txt": "holds a PEM private key",
        "terraform.tfvars": "matches *.tfvars",
        "admin/secrets.yaml": "matches secrets.yaml",
        "api/notes.txt": "hard link to .env",
    }


def _stored_bytes(folder: Path) -> Iterator[tuple[str, bytes]]:
    """Every file the gateway kept, and every entry of every ZIP among them."""
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        yield str(path), data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    yield f"{path}!{name}", archive.read(name)


def test_credentials_never_reach_the_gateway_and_the_listing_says_why(
    odplan: Odplan, gateway_files: Path
) -> None:
    why = _plant_credentials(odplan.manifest.parent)

    listed = _package(odplan, "--list")
    applied = odplan.apply()

    assert listed.returncode == 0, describe(listed)
    for path, reason in why.items():
        assert f"kept home  {path}  ({reason}" in listed.stdout, (path, listed.stdout)
    assert applied.returncode == 0, describe(applied)
    stored = list(_stored_bytes(gateway_files))
    assert any("main.py" in name for name, _ in stored), "the source itself was uploaded"
    for name, data in stored:
        assert CANARY.encode() not in data, name
        assert b"PRIVATE KEY-----" not in data, name
    assert_no_canary([applied.stdout, applied.stderr], odplan.home)


def test_an_unsafe_name_is_refused_before_anything_is_uploaded(
    odplan: Odplan, gateway_files: Path
) -> None:
    root = odplan.manifest.parent
    (root / "api" / "back\\..\\..\\evil.txt").write_text("x\n")
    (root / "api" / "two\nlines.txt").write_text("x\n")

    planned = odplan.plan()
    applied = odplan.apply()
    listed = _package(odplan, "--list")

    for result in (planned, applied, listed):
        assert result.returncode == 1, describe(result)
        assert "api/back\\..\\..\\evil.txt: contains a backslash" in result.stderr
        assert "api/two\\nlines.txt: contains the control character U+000A" in result.stderr
        assert "Traceback" not in result.stderr
    assert odplan.census("shop").projects == 0
    assert not any(zipfile.is_zipfile(p) for p in gateway_files.rglob("*") if p.is_file())


def test_names_are_escaped_in_listings_and_large_files_are_warned_about(odplan: Odplan) -> None:
    root = odplan.manifest.parent
    (root / "api" / ".env.\u202egpj.exe").write_text(f"X={CANARY}\n")
    with open(root / "admin" / "disk.img", "wb") as sparse:
        sparse.truncate(150 * 1024 * 1024)

    listed = _package(odplan, "--list")
    planned = odplan.plan()

    assert listed.returncode == 0, describe(listed)
    assert "\u202e" not in listed.stdout + listed.stderr
    assert "api/.env.\\u202egpj.exe" in listed.stdout
    for result in (listed, planned):
        assert "admin/disk.img: large file (150 MiB, sparse" in result.stderr, describe(result)
    assert_no_canary([listed.stdout, listed.stderr, planned.stdout, planned.stderr])
