"""docs/testing.md names, for each promise of the README, the tests that guard it: every named
test must exist, and every promise of "How it behaves" must have a row."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "testing.md"
README = ROOT / "README.md"


def _test_ids() -> list[str]:
    return re.findall(r"`(tests/[\w/]+\.py::\w+)`", DOC.read_text(encoding="utf-8"))


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def test_every_test_named_in_the_table_exists() -> None:
    ids = _test_ids()
    assert len(ids) >= 30
    missing = []
    for test_id in ids:
        file, function = test_id.split("::")
        path = ROOT / file
        if not path.is_file() or function not in _functions(path):
            missing.append(test_id)
    assert missing == []


def test_every_promise_of_the_readme_has_a_row() -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme.split("## How it behaves", 1)[1].split("\n## ", 1)[0]
    promises = re.findall(r"^- \*\*(.+?)\*\*", section, flags=re.MULTILINE)
    assert len(promises) >= 4
    table = DOC.read_text(encoding="utf-8")
    rows = [line for line in table.splitlines() if line.startswith("| **")]
    for promise in promises:
        lead = promise.rstrip(".:").split(".")[0]
        assert any(lead in row for row in rows), promise
