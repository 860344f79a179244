"""The shipped manifests: every example app and opendeploy.yaml.example validate cleanly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from click.testing import CliRunner

from opendeploy_plan import platform
from opendeploy_plan.cli import main
from opendeploy_plan.manifest import Manifest, load_manifest

from .conftest import EXAMPLES, REPO

EXAMPLE_MANIFESTS = sorted(EXAMPLES.glob("*/opendeploy.yaml"))
ALL_MANIFESTS = [*EXAMPLE_MANIFESTS, REPO / "opendeploy.yaml.example"]
REQUIRED_EXAMPLES = {
    "nextjs-postgres",
    "fastapi-postgres-redis",
    "django",
    "static-site",
    "api-worker",
}
# The one example that needs an account-bound credential (two services, two replicas).
BEYOND_GUEST_CAPS = {"api-worker"}


def _id(path: Path) -> str:
    return path.parent.name if path.name == "opendeploy.yaml" else path.name


def _manifest(path: Path, environment: str | None = None) -> Manifest:
    result = load_manifest(path, environment)
    assert result.manifest is not None, [d.format() for d in result.diagnostics]
    return result.manifest


def test_the_required_examples_exist() -> None:
    assert {path.parent.name for path in EXAMPLE_MANIFESTS} >= REQUIRED_EXAMPLES


@pytest.mark.parametrize("path", ALL_MANIFESTS, ids=_id)
@pytest.mark.parametrize("environment", ["production", "staging"])
def test_each_manifest_validates_without_errors_or_warnings(path: Path, environment: str) -> None:
    result = CliRunner().invoke(
        main, ["validate", "--warnings-as-errors", "-e", environment, "-f", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert f"valid for {environment}" in result.output


@pytest.mark.parametrize("path", ALL_MANIFESTS, ids=_id)
def test_each_manifest_starts_with_the_schema_modeline(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, first
    assert (path.parent / match.group(1)).resolve() == REPO / "schemas" / "opendeploy.schema.json"


@pytest.mark.parametrize("path", ALL_MANIFESTS, ids=_id)
def test_each_manifest_matches_the_json_schema(path: Path) -> None:
    schema = json.loads((REPO / "schemas" / "opendeploy.schema.json").read_text())
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


@pytest.mark.parametrize("path", EXAMPLE_MANIFESTS, ids=_id)
def test_each_example_source_folder_holds_real_files(path: Path) -> None:
    manifest = _manifest(path)
    for name, service in manifest.services.items():
        assert isinstance(service.source, str), f"{name}: examples deploy from local folders"
        folder = path.parent / service.source
        files = [p for p in folder.rglob("*") if p.is_file()]
        assert len(files) >= 2, f"{name}: {folder} should hold a real app"
        if service.dockerfile:
            assert (folder / service.dockerfile).is_file()


@pytest.mark.parametrize("path", EXAMPLE_MANIFESTS, ids=_id)
def test_examples_never_hold_literal_secrets(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "password" not in text.lower() or "${{ secrets." in text
    result = load_manifest(path)
    assert not [d for d in result.diagnostics if "secret" in d.summary]


@pytest.mark.parametrize(
    "path", [p for p in EXAMPLE_MANIFESTS if p.parent.name not in BEYOND_GUEST_CAPS], ids=_id
)
@pytest.mark.parametrize("environment", ["production", "staging"])
def test_examples_fit_the_guest_tier(path: Path, environment: str) -> None:
    manifest = _manifest(path, environment)
    assert len(manifest.services) <= platform.GUEST_SERVICES_PER_PROJECT
    for service in manifest.services.values():
        assert service.replicas <= platform.GUEST_MAX_REPLICAS
        resources = service.resources
        assert resources is not None and resources.cpu is not None and resources.memory is not None
        assert resources.cpu.limit is not None and resources.memory.limit is not None
        assert platform.cpu_millicores(resources.cpu.limit) <= platform.GUEST_CPU_LIMIT_MILLICORES
        assert platform.memory_bytes(resources.memory.limit) <= platform.GUEST_MEMORY_LIMIT_BYTES
