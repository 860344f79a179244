"""Binding the source (mutation audit, issue 19): update-source's "already up to date" means the
parked upload expired and nothing was bound; apply uploads and binds once more, and stops if
that repeats, instead of deploying the old files under the new digest. Real HTTP against the
local gateway; the expired answer comes from `Tamper`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.apply.rig import Rig, rig
from tests.apply.test_handler_promises import applied, failed, manifest

BIND = "/api/v1/upload/update-source"
EXPIRED = {"message": "Project source already up to date"}


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, manifest()) as the_rig:
        applied(the_rig)
        (the_rig.app_dir / "web" / "main.py").write_text("print('hello again')\n")
        yield the_rig


@pytest.mark.parametrize(
    "message", [EXPIRED["message"], "Already up to date", "SOURCE ALREADY UP TO DATE."]
)
def test_an_upload_that_expired_before_binding_is_uploaded_and_bound_again(
    gw: Rig, message: str
) -> None:
    gw.tamper.swallow("POST", BIND, answer={"message": message}, count=1)
    out = applied(gw)
    assert gw.tamper.fired() and all(gw.tamper.fired().values())
    assert "the upload expired before binding; uploading again" in out
    assert "No changes" in gw.odplan("plan").output


def test_a_bind_that_expires_twice_stops_the_apply(gw: Rig) -> None:
    gw.tamper.swallow("POST", BIND, answer=EXPIRED, count=2)
    out = failed(gw)
    assert "did not bind the new upload, twice" in out
