"""Which env files are read: paths that leave the folder, links, folders and read errors."""

from __future__ import annotations

from pathlib import Path

import dotenv
import pytest

from opendeploy_plan.manifest import EnvFileError, load_env_files


def test_a_refused_path_does_not_stop_the_files_after_it(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=kept\n")
    (tmp_path / "ci.env").write_text("B=kept\n")
    files = ["../outside.env", "/etc/hostname", ".env", "missing.env", "ci.env"]
    assert load_env_files(tmp_path, files, "production") == {"A": "kept", "B": "kept"}


def test_a_link_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (tmp_path / "secrets.env").write_text("A=outside\n")
    (app / ".env").symlink_to(tmp_path / "secrets.env")
    (app / "inside.env").write_text("B=inside\n")
    (app / ".env.local").symlink_to(app / "inside.env")
    assert load_env_files(app, None, "production") == {"B": "inside"}


def test_a_folder_named_like_an_env_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / ".env").mkdir()
    (tmp_path / ".env.local").write_text("A=1\n")
    assert load_env_files(tmp_path, None, "production") == {"A": "1"}


def test_a_read_error_names_the_file_and_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root reads any file whatever its mode, so the failing read is injected into python-dotenv.
    (tmp_path / ".env").write_text("A=1\n")

    def refuse(*args: object, **kwargs: object) -> dict[str, str | None]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(dotenv, "dotenv_values", refuse)
    with pytest.raises(EnvFileError) as caught:
        load_env_files(tmp_path, None, "production")
    assert str(caught.value) == ".env cannot be read (Permission denied)"
