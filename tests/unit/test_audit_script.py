"""`scripts/audit.py`, the hand-made mutation audit runner, judges kills honestly: a test that
fails on the mutant and passes on the clean code is a kill only if it fails again when run
alone on the mutant. A test that failed once (under load, say) is flaky, is deselected, and the
mutant survives; a real kill is named. Run on a tiny git repository of its own."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit.py"

MODULE = "def answer() -> int:\n    unused = 1\n    return 42\n"
TESTS = """from pathlib import Path

from opendeploy_plan.m import answer

ONCE = Path(__file__).with_name("failed-once")


def test_answer() -> None:
    assert answer() == 42


def test_fails_only_the_first_time() -> None:
    if not ONCE.exists():
        ONCE.write_text("x")
        raise AssertionError("a hiccup under load")
"""


HEADER = (
    "diff --git a/opendeploy_plan/m.py b/opendeploy_plan/m.py\n"
    "--- a/opendeploy_plan/m.py\n+++ b/opendeploy_plan/m.py\n"
)
# Two single-line mutants of MODULE: one no test can see, one `test_answer` kills.
EQUIVALENT = (
    "# what: an unused value changed\n# tests: tests\n" + HEADER + "@@ -1,3 +1,3 @@\n"
    " def answer() -> int:\n-    unused = 1\n+    unused = 2\n     return 42\n"
)
OFF_BY_ONE = (
    "# what: the answer is off by one\n# tests: tests\n" + HEADER + "@@ -1,3 +1,3 @@\n"
    " def answer() -> int:\n     unused = 1\n-    return 42\n+    return 43\n"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts" / "audit.py")
    (tmp_path / "opendeploy_plan").mkdir()
    (tmp_path / "opendeploy_plan" / "__init__.py").write_text("")
    (tmp_path / "opendeploy_plan" / "m.py").write_text(MODULE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_m.py").write_text(TESTS)
    (tmp_path / "audit").mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("failed-once\n")
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=tmp_path, check=True)
    return tmp_path


def _run(repo: Path, *ids: str) -> dict[str, dict[str, object]]:
    out = repo / "out.jsonl"
    command = ["scripts/audit.py", "--folder", "audit", "--no-room", "--timeout", "120"]
    done = subprocess.run(
        [sys.executable, *command, "--json", str(out), *ids],
        cwd=repo,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(repo), "HOME": str(repo)},
        check=False,
    )
    assert out.exists(), done.stdout + done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert subprocess.run(["git", "diff", "--quiet"], cwd=repo).returncode == 0  # reverted
    return {str(row["ident"]): row for row in rows}


def test_a_test_that_failed_only_once_is_flaky_and_the_mutant_survives(repo: Path) -> None:
    (repo / "audit" / "E01.diff").write_text(EQUIVALENT)
    outcome = _run(repo, "E01")["E01"]
    assert outcome["killed_by"] == ""
    assert outcome["flaky"] == ["tests/test_m.py::test_fails_only_the_first_time"]
    assert any("passes on it alone" in note for note in outcome["notes"])  # type: ignore[union-attr]


def test_a_test_that_fails_again_alone_is_the_kill(repo: Path) -> None:
    (repo / "tests" / "failed-once").write_text("x")  # no hiccup this time
    (repo / "audit" / "K01.diff").write_text(OFF_BY_ONE)
    outcome = _run(repo, "K01")["K01"]
    assert outcome["killed_by"] == "tests/test_m.py::test_answer"
    assert outcome["flaky"] == []
