"""Dotenv files that resolve secrets: order, defaults, and values that are never printed."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from opendeploy_plan.cli import main
from opendeploy_plan.manifest import default_env_files, load_env_files

CANARY = "canary-7f3a9c2e-do-not-print"


def test_later_files_win_and_missing_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=base\nB=base\n")
    (tmp_path / ".env.staging").write_text("B=staging\nC=staging\n")
    (tmp_path / ".env.staging.local").write_text("C=mine\n")
    assert load_env_files(tmp_path, None, "staging") == {"A": "base", "B": "staging", "C": "mine"}
    assert load_env_files(tmp_path, None, "production") == {"A": "base", "B": "base"}


def test_the_default_list_depends_on_the_environment() -> None:
    assert default_env_files("staging") == [
        ".env",
        ".env.local",
        ".env.staging",
        ".env.staging.local",
    ]


def test_explicit_files_replace_the_default_list(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=ignored\n")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "ci.env").write_text("A=ci\n")
    assert load_env_files(tmp_path, ["config/ci.env"], "production") == {"A": "ci"}


def test_values_are_not_interpolated(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PASSWORD='pa$$word${HOME}'\nEMPTY=\nBARE\n")
    assert load_env_files(tmp_path, None, "production") == {
        "PASSWORD": "pa$$word${HOME}",
        "EMPTY": "",
    }


def test_files_outside_the_manifest_folder_are_never_read(tmp_path: Path) -> None:
    inner = tmp_path / "app"
    inner.mkdir()
    (tmp_path / "secrets.env").write_text("A=outside\n")
    assert load_env_files(inner, ["../secrets.env", "/etc/hostname"], "production") == {}


def test_validate_never_prints_secret_values(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"API_TOKEN={CANARY}\n")
    manifest = tmp_path / "opendeploy.yaml"
    manifest.write_text(
        "version: 1\nproject:\n  name: shop\nservices:\n  web:\n"
        "    env:\n      API_TOKEN: ${{ secrets.API_TOKEN }}\n      PORT: 0x\n"
        "    port: 0\n"
    )
    for args in (["validate", "-f", str(manifest)], ["validate", "--json", "-f", str(manifest)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1
        assert CANARY not in result.output


def test_a_non_utf8_env_file_is_a_clear_error_naming_the_file(tmp_path: Path) -> None:
    import pytest

    from opendeploy_plan.manifest import EnvFileError

    (tmp_path / ".env").write_bytes(b"K=\xff\xfe\n")
    with pytest.raises(EnvFileError, match=r"^\.env is not UTF-8 text$"):
        load_env_files(tmp_path, None, "production")
