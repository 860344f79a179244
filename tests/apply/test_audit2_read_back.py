"""Read-backs an independent mutation audit (issue 19, docs/mutation-audit-2.md) found
unguarded: a variable the gateway adds that was never sent, and a database whose type only the
create answer carries (the documented profile's status rows are `{id, status}`). Real HTTP
against the local gateway; "accepted but not kept" comes from `Tamper` (tests/apply/rig.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.apply.rig import Rig, rig
from tests.apply.test_handler_promises import ID, applied, failed, manifest


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, manifest()) as the_rig:
        yield the_rig


def test_env_read_back_names_a_variable_the_gateway_added(gw: Rig) -> None:
    applied(gw)
    gw.write(manifest(log_level="debug"))
    gw.tamper.rewrite(
        "PUT",
        f"/api/v1/projects/{ID}/services/{ID}/env",
        lambda b: {"variables": {**b["variables"], "ADDED_BY_GATEWAY": "x"}},
    )
    out = failed(gw)
    assert "service.web.env env is unexpected ADDED_BY_GATEWAY, expected what was sent" in out


def test_service_create_env_read_back_names_a_variable_never_sent(gw: Rig) -> None:
    def add_one(body: dict[str, Any]) -> dict[str, Any]:
        variables = {**(body.get("runtime_variables") or {}), "ADDED_BY_GATEWAY": "x"}
        return {**body, "runtime_variables": variables}

    gw.tamper.rewrite("POST", f"/api/v1/projects/{ID}/services/", add_one)
    out = failed(gw)
    assert "service.web env is unexpected ADDED_BY_GATEWAY, expected what was sent" in out


def test_a_database_type_only_the_create_answer_carries_is_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Documented status rows carry no type: the create answer is the only witness.
    with rig(tmp_path, monkeypatch, manifest(), profile="documented") as r:
        r.tamper.rewrite(
            "POST", "/api/v1/dependencies/create", lambda b: {**b, "dependency_id": "mysql"}
        )
        out = failed(r)
        assert "dependency.db type is 'mysql', expected 'postgres'" in out
