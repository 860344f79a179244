"""`odplan init`: writes a manifest that validates, refuses to overwrite, prints JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from opendeploy_plan.analyze import SCHEMA_URL
from opendeploy_plan.cli import main
from opendeploy_plan.manifest import load_manifest

FIXTURES = Path(__file__).parent / "fixtures"
REFUSED = {"mining", "no-entrypoint"}


def test_init_writes_a_commented_manifest(fixture_copy: Callable[[str], Path]) -> None:
    root = fixture_copy("compose-stack")
    result = CliRunner().invoke(main, ["init", str(root)])
    assert result.exit_code == 0, result.output
    text = (root / "opendeploy.yaml").read_text()
    assert text.startswith(f"# yaml-language-server: $schema={SCHEMA_URL}\n")
    assert "# docker-compose.yml: service 'db' uses postgres:16-alpine" in text
    data = yaml.safe_load(text)
    assert data["version"] == 1 and data["project"]["name"] == "compose-stack"
    assert set(data["services"]) == {"api", "worker"}
    for column in ("service", "language", "framework", "port", "confidence", "evidence"):
        assert column in result.output
    assert "fastapi" in result.output and "8000" in result.output


def test_init_refuses_to_overwrite_without_force(fixture_copy: Callable[[str], Path]) -> None:
    root = fixture_copy("flask")
    (root / "opendeploy.yaml").write_text("# mine\n")
    runner = CliRunner()
    refused = runner.invoke(main, ["init", str(root)])
    assert refused.exit_code == 1
    assert "--force" in refused.output
    assert (root / "opendeploy.yaml").read_text() == "# mine\n"
    forced = runner.invoke(main, ["init", str(root), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "framework: flask" in (root / "opendeploy.yaml").read_text()


def test_init_json_output_parses(fixture_copy: Callable[[str], Path]) -> None:
    root = fixture_copy("pnpm-turbo")
    result = CliRunner().invoke(main, ["init", str(root), "--json", "--name", "acme"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["project_name"] == "acme"
    assert data["validation_errors"] == []
    ports = {s["name"]: s["port"]["port"] for s in data["services"]}
    assert ports == {"web": 3000, "api": 4000}
    assert {s["name"]: s["confidence"] for s in data["services"]}["api"] == "high"


def test_init_refusal_exits_1_and_writes_nothing(fixture_copy: Callable[[str], Path]) -> None:
    root = fixture_copy("mining")
    result = CliRunner().invoke(main, ["init", str(root)])
    assert result.exit_code == 1
    assert "refusing" in result.output and "crypto-mining" in result.output
    assert "Traceback" not in result.output
    assert not (root / "opendeploy.yaml").exists()


def test_init_environment_is_written_and_validated(fixture_copy: Callable[[str], Path]) -> None:
    root = fixture_copy("django")
    result = CliRunner().invoke(main, ["init", str(root), "--environment", "staging"])
    assert result.exit_code == 0, result.output
    loaded = load_manifest(root / "opendeploy.yaml")
    assert loaded.manifest is not None and loaded.manifest.environment == "staging"


def test_init_rejects_a_missing_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "fixture",
    sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name not in REFUSED),
)
def test_every_written_manifest_validates(
    fixture: str, fixture_copy: Callable[[str], Path]
) -> None:
    root = fixture_copy(fixture)
    result = CliRunner().invoke(main, ["init", str(root)])
    assert result.exit_code == 0, result.output
    loaded = load_manifest(root / "opendeploy.yaml")
    errors = [d.format_long() for d in loaded.diagnostics if d.severity == "error"]
    assert errors == []
    # init never writes a secret-looking value in plain text (the validator warns on that).
    assert [d.format_long() for d in loaded.diagnostics if "secret" in d.summary] == []


def test_init_json_on_refusal_still_parses(fixture_copy: Callable[[str], Path]) -> None:
    root = fixture_copy("no-entrypoint")
    result = CliRunner().invoke(main, ["init", str(root), "--json"])
    assert result.exit_code == 1
    payload = result.output[: result.output.rindex("}") + 1]
    data = json.loads(payload)
    assert "no language or Dockerfile" in data["refusal"]
    assert not (root / "opendeploy.yaml").exists()
