"""Read-backs the handler promises did not reach yet (mutation audit, issue 19): build
variables after a service create and after an update, against a gateway that answers "OK"
and does not keep the change (`Tamper`, tests/apply/rig.py), over real HTTP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.apply.rig import Rig, rig
from tests.apply.test_handler_promises import ID, applied, failed, manifest

BUILD_ENV = "    build_env:\n      NODE_ENV: {node_env}\n      BUILD_FLAVOUR: slim\n"


def with_build_env(node_env: str = "production", policy: str = "replace") -> str:
    text = manifest(policy=policy)
    return text.replace("    subdomain:", BUILD_ENV.format(node_env=node_env) + "    subdomain:")


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with rig(tmp_path, monkeypatch, with_build_env()) as the_rig:
        yield the_rig


def _drop_build_flavour(body: dict[str, Any]) -> dict[str, Any]:
    variables = dict(body.get("build_variables") or {})
    variables.pop("BUILD_FLAVOUR", None)
    return {**body, "build_variables": variables}


def test_service_create_build_variables_read_back(gw: Rig) -> None:
    gw.tamper.rewrite("POST", f"/api/v1/projects/{ID}/services/", _drop_build_flavour)
    out = failed(gw)
    assert "service.web build_variables is missing BUILD_FLAVOUR, expected what was sent" in out


def test_service_update_build_variables_read_back(gw: Rig) -> None:
    applied(gw)
    gw.write(with_build_env(node_env="staging"))
    gw.tamper.rewrite(
        "PUT",
        f"/api/v1/services/{ID}",
        lambda b: {**b, "build_variables": {**b["build_variables"], "NODE_ENV": "production"}},
    )
    out = failed(gw)
    assert "service.web build_variables is different value for NODE_ENV" in out
