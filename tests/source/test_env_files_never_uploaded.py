"""Env files the manifest names (`env_files`) are held back from the archive whatever their
names: they hold the values of `${{ secrets.* }}` (found in review: `config/secrets.env` was
zipped and uploaded)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from click.testing import CliRunner

from opendeploy_plan.cli import main
from opendeploy_plan.source import select_files

CANARY = "canary-envfile-3b9e"

MANIFEST = """\
version: 1
project: {name: shop}
services:
  web:
    source: .
    port: 8000
    env:
      API_KEY: ${{ secrets.API_KEY }}
    env_files: [config/secrets.env, prod.vars]
"""


def make_app(root: Path) -> Path:
    (root / "config").mkdir(parents=True)
    (root / "app.py").write_text("print('hi')\n")
    (root / "config" / "secrets.env").write_text(f"API_KEY={CANARY}\n")
    (root / "prod.vars").write_text(f"OTHER={CANARY}\n")
    (root / "opendeploy.yaml").write_text(MANIFEST)
    return root / "opendeploy.yaml"


def test_select_files_holds_back_named_secret_files(tmp_path: Path) -> None:
    make_app(tmp_path)
    chosen = select_files(tmp_path, secret_files=["config/secrets.env", "./prod.vars", "../x"])
    assert [f.path for f in chosen.files] == ["app.py"]
    assert {"config/secrets.env", "prod.vars"} <= set(chosen.excluded_secrets)


def test_package_never_lists_or_zips_the_manifests_env_files(tmp_path: Path) -> None:
    manifest = make_app(tmp_path / "app")
    archive = tmp_path / "out.zip"
    result = CliRunner().invoke(
        main, ["package", "-f", str(manifest), "--list", "-o", str(archive)]
    )
    assert result.exit_code == 0, result.output
    listed = [line.split()[-1] for line in result.stdout.splitlines() if line.startswith(" ")]
    assert listed[0] == "app.py" and "config/secrets.env" not in listed
    assert "left out as secrets, never uploaded (2): config/secrets.env, prod.vars" in result.stdout
    with zipfile.ZipFile(archive) as zf:
        assert zf.namelist() == ["app.py"]
    assert CANARY.encode() not in archive.read_bytes()
    assert CANARY not in result.output
