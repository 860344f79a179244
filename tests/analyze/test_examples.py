"""`odplan init` on each example app (in a temporary copy) agrees with its hand-written manifest.

The examples belong to the manifest room; this only reads them. Each service of the
hand-written manifest must be found with the same source, type, framework and port.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from opendeploy_plan.cli import main
from opendeploy_plan.manifest import load_manifest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
APPS = sorted(p.name for p in EXAMPLES.glob("*") if (p / "opendeploy.yaml").is_file())


def _services(path: Path) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(path.read_text())
    services = data.get("services") or {}
    assert isinstance(services, dict)
    return services


@pytest.mark.skipif(not APPS, reason="no example apps yet")
@pytest.mark.parametrize("app", APPS)
def test_init_agrees_with_the_hand_written_example(app: str, tmp_path: Path) -> None:
    root = tmp_path / app
    shutil.copytree(EXAMPLES / app, root, ignore=shutil.ignore_patterns("opendeploy.yaml"))
    result = CliRunner().invoke(main, ["init", str(root)])
    assert result.exit_code == 0, result.output
    loaded = load_manifest(root / "opendeploy.yaml")
    assert [d.format_long() for d in loaded.diagnostics if d.severity == "error"] == []

    ours = {spec.get("source", "."): spec for spec in _services(root / "opendeploy.yaml").values()}
    for name, theirs in _services(EXAMPLES / app / "opendeploy.yaml").items():
        source = theirs.get("source", ".")
        assert source in ours, f"service {name} ({source}) was not detected"
        mine = ours[source]
        assert mine.get("type", "web") == theirs.get("type", "web"), name
        for key in ("framework", "port"):
            if theirs.get(key) is not None:
                assert mine.get(key) == theirs[key], (name, key)
