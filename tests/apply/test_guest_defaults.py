"""A guest credential (not linked to an account) sends the resource defaults setup.md asks for
on service create when the manifest is silent, and the next plan shows no diff for them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from opendeploy_plan import platform
from tests.apply.rig import rig

SOLO = """\
version: 1
project:
  name: tiny
services:
  web:
    type: web
    source: web
    language: python
    port: 8080
    dockerfile: Dockerfile
    resources:
      memory: {request: 256Mi}
"""


def test_a_guest_sends_the_resource_defaults_where_the_manifest_is_silent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, SOLO) as gw:
        registered = httpx.post(
            f"{gw.base_url}/v1/client-guests/register",
            json={"source_hint": "odplan/test", "name": "test"},
            timeout=30,
        )
        registered.raise_for_status()
        monkeypatch.setenv("OD_API_KEY", registered.json()["api_key"])
        sent: list[dict[str, Any]] = []

        def record(body: dict[str, Any]) -> dict[str, Any]:
            sent.append(dict(body))
            return body

        gw.tamper.rewrite("POST", "/api/v1/projects/[^/]+/services/", record)

        applied = gw.apply()
        assert applied.exit_code == 0, applied.output
        assert len(sent) == 1
        expected = {**platform.GUEST_SERVICE_DEFAULTS, "memory_request": "256Mi"}
        assert {key: sent[0].get(key) for key in expected} == expected

        planned = gw.odplan("plan", "--detailed-exitcode")
        assert planned.exit_code == 0, planned.output


def test_an_account_credential_sends_only_what_the_manifest_sets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, SOLO) as gw:
        sent: list[dict[str, Any]] = []

        def record(body: dict[str, Any]) -> dict[str, Any]:
            sent.append(dict(body))
            return body

        gw.tamper.rewrite("POST", "/api/v1/projects/[^/]+/services/", record)
        applied = gw.apply()
        assert applied.exit_code == 0, applied.output
        assert sent[0].get("memory_request") == "256Mi"
        unset = ("cpu_request", "cpu_limit", "memory_limit")
        assert [sent[0].get(key) for key in unset] == [None, None, None], sent[0]
