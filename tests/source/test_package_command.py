"""`odplan package`: what would be uploaded, its digests, the archive, and clean failures."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from opendeploy_plan.cli import main
from opendeploy_plan.platform import MINING_MARKERS
from opendeploy_plan.source import digest_zip

MakeTree = Callable[..., Path]
CANARY = "canary-7f3a9c-do-not-upload"
MANIFEST = """\
version: 1
project:
  name: shop
services:
  api:
    source: services/api
    port: 8080
  web:
    source: ./web
    port: 3000
"""
APP = {
    "opendeploy.yaml": MANIFEST,
    "services/api/main.py": "print('api')\n",
    "services/api/requirements.txt": "fastapi\n",
    "web/index.js": "console.log('web')\n",
    "README.md": "# shop\n",
}
# The manifest is configuration, not source: it is never uploaded.
UPLOADED = sorted(path for path in APP if path != "opendeploy.yaml")
SECRETS = {
    ".env": f"API_KEY={CANARY}\n",
    ".env.production": f"API_KEY={CANARY}\n",
    "services/api/.env": f"DB_PASSWORD={CANARY}\n",
    "id_rsa": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{CANARY}\n",
    "web/x.pem": f"-----BEGIN CERTIFICATE-----\n{CANARY}\n",
}


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["package", "-f", str(root / "opendeploy.yaml"), *args])


def test_the_canary_never_leaves_the_machine(make_tree: MakeTree) -> None:
    root = make_tree({**APP, **SECRETS})
    archive = root.parent / "out.zip"
    results = [
        run(root),
        run(root, "--list"),
        run(root, "api", "--list"),
        run(root, "--json", "--list", "-o", str(archive)),
    ]
    assert [r.exit_code for r in results] == [0, 0, 0, 0]
    for result in results:
        assert CANARY not in result.stdout
        assert CANARY not in result.stderr
    data = archive.read_bytes()
    assert CANARY.encode() not in data
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == UPLOADED
        assert all(CANARY.encode() not in zf.read(name) for name in zf.namelist())
    for cached in (root / ".opendeploy").rglob("*"):
        assert CANARY.encode() not in cached.read_bytes()
    # the secrets are named (never shown) so a user sees they stayed home
    assert "left out as secrets, never uploaded (5)" in results[0].stdout


def test_list_shows_every_uploaded_file_and_the_digests(make_tree: MakeTree) -> None:
    root = make_tree(APP)
    result = run(root, "--list")
    assert result.exit_code == 0, result.output
    listed = [line.split()[-1] for line in result.stdout.splitlines() if line.startswith(" ")]
    assert listed[: len(UPLOADED)] == UPLOADED
    assert "service api (services/api): 2 files" in result.stdout
    assert "odsrc1:" in result.stdout


def test_a_named_service_limits_the_listing_to_its_subtree(make_tree: MakeTree) -> None:
    root = make_tree(APP)
    result = run(root, "api", "--list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [f["path"] for f in data["files"]] == [
        "services/api/main.py",
        "services/api/requirements.txt",
    ]
    assert list(data["services"]) == ["api"]
    assert data["service"] == "api"


def test_json_gives_each_digest_and_the_archive_matches(make_tree: MakeTree) -> None:
    root = make_tree(APP)
    out = root.parent / "archive.zip"
    result = run(root, "--json", "-o", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["digest"] == data["archive"]["digest"] == digest_zip(out)
    assert {name: s["digest"][:7] for name, s in data["services"].items()} == {
        "api": "odsrc1:",
        "web": "odsrc1:",
    }
    assert data["archive"]["size"] == out.stat().st_size
    assert "files" not in data


def test_writing_the_archive_inside_the_project_warns(make_tree: MakeTree) -> None:
    root = make_tree(APP)
    inside = run(root, "-o", str(root / "source.zip"))
    assert inside.exit_code == 0
    assert "would be uploaded next time" in inside.stderr
    tucked = run(root, "-o", str(root / ".opendeploy" / "source.zip"))
    assert "would be uploaded" not in tucked.stderr


def test_mining_markers_refuse_with_one_sentence_and_exit_1(make_tree: MakeTree) -> None:
    root = make_tree({**APP, "web/pool.js": f"connect('{MINING_MARKERS[-1]}x:3333')"})
    for args in ((), ("-o", str(root.parent / "m.zip"))):
        result = run(root, *args)
        assert result.exit_code == 1
        assert result.stderr.startswith("error: Refusing to deploy: web/pool.js contains")
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.output
    assert not (root.parent / "m.zip").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope",), "no service 'nope' in"),
        (("-e", "qa"), "fix the manifest first"),
    ],
)
def test_user_mistakes_exit_1_with_a_clear_message(
    make_tree: MakeTree, args: tuple[str, ...], message: str
) -> None:
    root = make_tree(APP)
    result = run(root, *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_missing_manifest_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["package", "-f", str(tmp_path / "opendeploy.yaml")])
    assert result.exit_code == 1
    assert "no such file" in result.stderr


def test_a_git_service_has_nothing_to_package(make_tree: MakeTree) -> None:
    manifest = MANIFEST + (
        "  worker:\n    source:\n      git: https://example.com/bob/w.git\n    type: worker\n"
    )
    root = make_tree({**APP, "opendeploy.yaml": manifest})
    listed = run(root, "--json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)
    assert data["services"]["worker"] == {
        "source": {"git": "https://example.com/bob/w.git", "branch": None},
        "digest": None,
    }
    named = run(root, "worker")
    assert named.exit_code == 1
    assert "builds from git" in named.stderr
    assert "hunter2" not in listed.output + named.output


def test_inspect_zip_refuses_env_files_unless_approved(tmp_path: Path) -> None:
    path = tmp_path / "user.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("app.py", "print(1)")
        zf.writestr(".env", f"K={CANARY}")
    refused = CliRunner().invoke(main, ["package", "--inspect-zip", str(path)])
    assert refused.exit_code == 1
    assert "ZIP contains env or credential files" in refused.stderr
    assert "  .env" in refused.stderr
    approved = CliRunner().invoke(
        main, ["package", "--inspect-zip", str(path), "--allow-secrets", "--json"]
    )
    assert approved.exit_code == 0
    assert json.loads(approved.stdout)["approved_secrets"] == [".env"]
    assert CANARY not in refused.output + approved.output
