"""The archive apply uploads is the one it planned (mutation audit, issue 19): a file that
changes between planning and packaging stops the apply with the file's name, instead of
uploading other bytes under the planned digest. Real HTTP against the local gateway; the
file is edited by a `Tamper` hook when the project is created (after planning, before the
source is packaged)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.apply.rig import rig
from tests.apply.test_handler_promises import failed, manifest


def test_a_source_file_edited_after_planning_stops_the_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, manifest()) as r:

        async def edit_the_source(_match: Any) -> None:
            (r.app_dir / "web" / "main.py").write_text("print('edited while applying')\n")

        r.tamper.before("POST", "/api/v1/projects/", edit_the_source)
        out = failed(r)
        assert r.tamper.fired() and all(r.tamper.fired().values())
        assert "the source changed between planning and packaging: web/main.py" in out
        assert r.live().deployments == {}
