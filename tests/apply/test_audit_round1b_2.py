"""Round 1b of the mutation audit (docs/mutation-audit.md, "Round 1b"): tests for the mutants
of the rooms the first audit did not run that no test killed.

* B09, B10: a ZIP the user built (`odplan package --inspect-zip`, the skill's check before an
  upload) with an entry that climbs out of the folder *after* a first component (`app/../../x`,
  or with backslashes for a Windows extractor), or with two entries of one name (the second
  would overwrite the first on extraction), is refused: exit 1, naming the entries. A name
  that merely contains two dots (`v1..v2.md`) is not a `..` component and passes.

* B02: `odplan status` tells each service's pending actions by its address, not by a prefix:
  with services `web` and `web-worker`, a change to `web-worker` leaves `web` in sync.
* B15: `odplan cancel` exits 1 when the deployment ends otherwise than cancelled (it finished
  before the cancel took effect), as its help says; 0 only when it ends cancelled.

They live in tests/apply only because this audit's files do. The ZIP checks need no gateway;
the others run odplan in-process against a local gateway over real HTTP (tests/apply/rig.py).
"""

from __future__ import annotations

import asyncio
import json
import warnings
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from opendeploy_plan.cli import main
from tests.apply.rig import rig


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


# --- B02: a service's pending actions are its own ------------------------------------------

TWO = """\
version: 1
project:
  name: tiny
services:
  web:
    type: worker
    source: web
    language: python
    dockerfile: Dockerfile
  web-worker:
    type: worker
    source: web
    language: python
    dockerfile: Dockerfile
    env:
      LOG_LEVEL: {log_level}
"""


def test_status_tells_a_service_from_another_whose_name_it_begins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, TWO.format(log_level="info")) as gw:
        assert gw.apply().exit_code == 0
        gw.write(TWO.format(log_level="debug"))  # only web-worker changes

        result = gw.odplan("status", "--json")

        assert result.exit_code == 0, result.output
        rows = {row["name"]: row for row in json.loads(result.stdout)["services"]}
        assert rows["web"]["sync"] == "in sync", rows["web"]
        assert rows["web"]["pending"] == []
        assert rows["web-worker"]["sync"] == "changes pending", rows["web-worker"]
        pending = rows["web-worker"]["pending"]
        assert pending and all(p.startswith("service.web-worker") for p in pending), pending


# --- B15: cancel's exit code says whether it cancelled -------------------------------------

ONE = """\
version: 1
project:
  name: tiny
services:
  web:
    type: worker
    source: web
    language: python
    dockerfile: Dockerfile
"""


def test_a_cancel_that_did_not_take_effect_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, ONE, build_seconds=1.5) as gw:
        assert gw.apply().exit_code == 0

        async def deploy_by_hand() -> str:
            async with gw.client() as client:
                project = await client.find_project_by_name("tiny")
                assert project is not None
                service = (await client.list_services(project.id))[0]
                made = await client.create_deployment(
                    project.id,
                    service.id,
                    environment="production",
                    temp_file_path="by-hand",
                    source="zip",
                    description="a deploy by hand",
                )
                return made.id

        running = asyncio.run(deploy_by_hand())
        # The cancel arrives as the build finishes: the gateway answers, the build goes on.
        gw.tamper.swallow("POST", f"/api/v1/deployments/{running}/cancel", answer={})

        result = gw.odplan("cancel", "web", "--yes")

        assert gw.tamper.fired()[f"swallow POST /api/v1/deployments/{running}/cancel"] == 1
        assert result.exit_code == 1, result.output
        text = " ".join(result.output.split())
        assert f"deployment {running} ended success before the cancel took effect" in text
