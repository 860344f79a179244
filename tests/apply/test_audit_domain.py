"""The auto-domain rename at apply (mutation audit, issue 19): check-subdomain's "taken" is
advisory (the check names no environment: the same prefix in the other environment answers
"taken"), the rename's own answer decides; "reserved" is final. Real HTTP against the local
gateway; the check's answer at apply time comes from `Tamper`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.apply.rig import Rig, rig
from tests.apply.test_handler_promises import applied, failed, manifest

CHECK = "/api/v1/service-domains/check-subdomain/tiny-web"


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, manifest()) as the_rig:
        yield the_rig


async def _pass_through(_match: Any) -> None:
    return None


def _check_answers_at_apply(gw: Rig, answer: dict[str, Any]) -> None:
    # The plan's own check (the first call) reaches the gateway; apply's check gets `answer`.
    gw.tamper.before("GET", CHECK, _pass_through, count=1)
    gw.tamper.swallow("GET", CHECK, answer=answer, count=None)


def test_taken_at_apply_is_advisory_the_rename_decides(gw: Rig) -> None:
    _check_answers_at_apply(gw, {"available": False, "reason": "taken"})
    applied(gw)
    assert gw.live().domains == {"web": ["tiny-web.opendeploy.run"]}


def test_reserved_at_apply_is_final(gw: Rig) -> None:
    _check_answers_at_apply(gw, {"available": False, "reason": "reserved"})
    out = failed(gw)
    assert "subdomain 'tiny-web' is reserved" in out
    assert "odplan never picks a different name" in out
