"""`odplan init` as a command: --name folding, --force, --json fields, and the human summary
(port column, dependencies, what needs attention, env files read for names, the next step)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from opendeploy_plan.cli import main

WIDE = {"COLUMNS": "240"}


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


EXPRESS = {
    "package.json": '{"name": "a", "dependencies": {"express": "4", "pg": "8"}, '
    '"scripts": {"start": "node index.js"}}\n',
    "index.js": "const app = require('express')();\napp.listen(3000);\n",
    ".env.example": "UPSTREAM_URL=\nLOG_LEVEL=info\n",
    ".env": "SOME_KEY_NAME=value-not-copied\n",
}


def _manifest(root: Path) -> dict[str, object]:
    data = yaml.safe_load((root / "opendeploy.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_a_name_that_is_not_a_dns_label_is_folded_and_said(tmp_path: Path) -> None:
    root = _write(tmp_path / "app", EXPRESS)
    result = CliRunner().invoke(main, ["init", str(root), "--name", "My Shop"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "project name 'My Shop' written as 'my-shop' (a DNS label)" in result.stderr
    assert _manifest(root)["project"] == {"name": "my-shop"}


def test_a_valid_name_is_kept_silently(tmp_path: Path) -> None:
    root = _write(tmp_path / "app", EXPRESS)
    result = CliRunner().invoke(main, ["init", str(root), "--name", "shop-1"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "DNS label" not in result.stderr
    assert _manifest(root)["project"] == {"name": "shop-1"}


def test_a_name_that_cannot_be_folded_is_rejected(tmp_path: Path) -> None:
    root = _write(tmp_path / "app", EXPRESS)
    result = CliRunner().invoke(main, ["init", str(root), "--name", "!!!"])
    assert result.exit_code != 0
    assert "Invalid value for --name: '!!!' cannot be made into a DNS label" in result.stderr
    assert not (root / "opendeploy.yaml").exists()


def test_force_overwrites_an_existing_manifest(tmp_path: Path) -> None:
    root = _write(tmp_path / "app", EXPRESS)
    (root / "opendeploy.yaml").write_text("old: true\n")
    refused = CliRunner().invoke(main, ["init", str(root)])
    assert refused.exit_code == 1
    assert (root / "opendeploy.yaml").read_text() == "old: true\n"
    result = CliRunner().invoke(main, ["init", str(root), "--force"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert _manifest(root)["version"] == 1


def test_json_names_the_manifest_and_its_validation(tmp_path: Path) -> None:
    root = _write(tmp_path / "app", EXPRESS)
    result = CliRunner().invoke(main, ["init", str(root), "--json", "-e", "production"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["manifest"] == str(root / "opendeploy.yaml")
    assert data["validation_errors"] == []
    (service,) = data["services"]
    assert (service["type"], service["port_status"]) == ("web", "detected")
    assert _manifest(root)["environment"] == "production"


def test_the_summary_says_what_was_found_and_what_needs_attention(tmp_path: Path) -> None:
    root = _write(tmp_path / "app", EXPRESS)
    result = CliRunner().invoke(main, ["init", str(root), "--no-interactive"], env=WIDE)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "odplan init: app (single layout)" in out
    row = next(line for line in out.splitlines() if " express " in line)
    assert " 3000 " in row
    assert " javascript " in row
    assert "dependency postgres (postgres): package.json" in out
    assert "Needs your attention:" in out
    assert "  - app: no value for UPSTREAM_URL" in out
    assert "LOG_LEVEL" not in out.split("Needs your attention:")[1]
    assert "Read key names only (values never copied) from: .env" in out
    assert "value-not-copied" not in result.output
    written = root / "opendeploy.yaml"
    assert f"Wrote {written} (validates). Next: odplan validate && odplan plan" in out


def test_the_port_column_for_workers_ambiguous_and_unknown(tmp_path: Path) -> None:
    worker = _write(
        tmp_path / "worker",
        {"requirements.txt": "celery\n", "tasks.py": "from celery import Celery\napp = Celery()\n"},
    )
    result = CliRunner().invoke(main, ["init", str(worker), "--no-interactive"], env=WIDE)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if " celery " in line)
    assert " worker " in row
    assert " - " in row.split(" celery ")[1]

    ambiguous = _write(
        tmp_path / "amb",
        {
            "package.json": '{"name": "a", "scripts": {"start": "node index.js"}}\n',
            "index.js": "const http = require('http');\n"
            "http.createServer(a).listen(4001);\nhttp.createServer(b).listen(4002);\n",
        },
    )
    result = CliRunner().invoke(main, ["init", str(ambiguous), "--no-interactive"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "ambiguous: " in result.stdout
    row = next(line for line in result.stdout.splitlines() if "ambiguous: " in line)
    assert "4001" in row and "4002" in row


def test_the_views_report_validation_errors_and_the_ambiguous_ports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from opendeploy_plan.analyze.engine import analyze
    from opendeploy_plan.cli.views.init import init_view

    root = _write(
        tmp_path / "amb",
        {
            "package.json": '{"name": "a", "scripts": {"start": "node index.js"}}\n',
            "index.js": "const http = require('http');\n"
            "http.createServer(a).listen(4001);\nhttp.createServer(b).listen(4002);\n",
        },
    )
    analysis = analyze(root)
    target = root / "opendeploy.yaml"
    errors = ["opendeploy.yaml:3:5: services.amb.port: required"]
    init_view(as_json=True).written(analysis, target, errors)
    data = json.loads(capsys.readouterr().out)
    assert data["validation_errors"] == errors
    assert data["manifest"] == str(target)
    monkeypatch.setenv("COLUMNS", "240")
    init_view(as_json=False).written(analysis, target, errors)
    out = capsys.readouterr().out
    assert "ambiguous: 4001/4002" in out
    assert errors[0] in out
    assert f"Wrote {target} (with errors). Next:" in " ".join(out.split())
