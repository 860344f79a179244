"""Round 1b of the mutation audit (docs/mutation-audit.md, "Round 1b"): tests for the mutants
of the rooms the first audit did not run that no test killed.

* B09, B10: a ZIP the user built (`odplan package --inspect-zip`, the skill's check before an
  upload) with an entry that climbs out of the folder *after* a first component (`app/../../x`,
  or with backslashes for a Windows extractor), or with two entries of one name (the second
  would overwrite the first on extraction), is refused: exit 1, naming the entries. A name
  that merely contains two dots (`v1..v2.md`) is not a `..` component and passes.

They live in tests/apply only because this audit's files do; they need no gateway.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

from click.testing import CliRunner, Result

from opendeploy_plan.cli import main


def _zip(path: Path, *entries: str) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w") as zf:
            for name in entries:
                zf.writestr(name, f"print({name!r})\n")
    return path


def _inspect(path: Path) -> Result:
    return CliRunner().invoke(main, ["package", "--inspect-zip", str(path)])


def test_a_user_zip_entry_climbing_out_after_its_first_folder_is_refused(tmp_path: Path) -> None:
    # Windows extractors split on backslashes too.
    made = _zip(
        tmp_path / "app.zip", "app/main.py", "app/../../etc/cron.d/evil", "app\\..\\..\\run.bat"
    )

    result = _inspect(made)

    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "would extract outside the project folder" in text
    assert "app/../../etc/cron.d/evil" in result.output
    assert "app\\..\\..\\run.bat" in result.output
    assert "Traceback" not in result.output


def test_two_dots_inside_a_name_are_not_a_parent_folder(tmp_path: Path) -> None:
    made = _zip(tmp_path / "app.zip", "app/main.py", "docs/v1..v2.md", "..hidden/x.py")

    result = _inspect(made)

    assert result.exit_code == 0, result.output


def test_a_user_zip_with_two_entries_of_one_name_is_refused(tmp_path: Path) -> None:
    # On extraction the second silently replaces the first: what was checked is not what runs.
    made = _zip(tmp_path / "app.zip", "app/main.py", "app/util.py", "app/main.py")

    result = _inspect(made)

    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "would extract outside the project folder" in text
    assert "app/main.py" in result.output
