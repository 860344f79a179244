"""A git source's token is named by `token_env`, never written in the manifest: set, it goes to
the upload as the git credential (and nowhere in the plan); unset or empty, the plan fails
naming the variable (an empty credential is never sent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.engine.desired import Resolution, resolve_desired
from opendeploy_plan.manifest import load_manifest_bytes

MANIFEST = b"""\
version: 1
project:
  name: shop
services:
  web:
    type: web
    port: 8080
    source:
      git: https://github.com/acme/shop.git
      branch: main
      token_env: GH_TOKEN
"""
TOKEN = "ghp_canary0123456789abcdef"


def _resolve(tmp_path: Path, env: dict[str, str]) -> Resolution:
    loaded = load_manifest_bytes(MANIFEST, "opendeploy.yaml", tmp_path)
    assert loaded.manifest is not None, [d.format_long() for d in loaded.diagnostics]
    return resolve_desired(loaded.manifest, tmp_path, "production", process_env=env)


def test_a_set_token_is_the_upload_credential_and_stays_out_of_the_plan(tmp_path: Path) -> None:
    resolution = _resolve(tmp_path, {"GH_TOKEN": TOKEN})
    assert resolution.diagnostics == []
    assert resolution.git_tokens == {"git_token": TOKEN}
    assert resolution.desired is not None
    assert resolution.desired.source.git_url == "https://github.com/acme/shop.git"
    assert TOKEN not in repr(resolution)


@pytest.mark.parametrize("env", [{}, {"GH_TOKEN": ""}])
def test_an_unset_or_empty_token_fails_the_plan_naming_it(
    tmp_path: Path, env: dict[str, str]
) -> None:
    resolution = _resolve(tmp_path, env)
    assert resolution.desired is None
    assert resolution.git_tokens == {}
    assert [(d.severity, d.path, d.summary) for d in resolution.diagnostics] == [
        ("error", "services", "git token variable GH_TOKEN is not set or empty")
    ]
