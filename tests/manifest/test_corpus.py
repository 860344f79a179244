"""The invalid-manifest corpus: every file fails `odplan validate` with the recorded message.

Each `corpus/NNN-name.yaml` starts with comment lines `# expect: LINE:COL: PATH: MESSAGE`
(`0:0` for a whole-file problem); a file that cannot carry comments (e.g. UTF-16) has them in a
sidecar `NNN-name.expected`. The expected text must appear as
`FILE:LINE:COL: error: PATH: MESSAGE…` in the real CLI's output.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from opendeploy_plan.cli import main

CORPUS = Path(__file__).parent / "corpus"
_EXPECT = re.compile(r"^(\d+):(\d+): (.+)$")


@dataclass(frozen=True)
class Expectation:
    line: int
    col: int
    text: str

    def needle(self, file: str) -> str:
        where = file if self.line == 0 else f"{file}:{self.line}:{self.col}"
        return f"{where}: error: {self.text}"


def expectations(case: Path) -> list[Expectation]:
    sidecar = case.with_suffix(".expected")
    if sidecar.exists():
        lines = [
            line
            for line in sidecar.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")
        ]
    else:
        header = case.read_bytes().decode("utf-8", errors="replace").splitlines()
        lines = [
            line.removeprefix("# expect: ") for line in header if line.startswith("# expect: ")
        ]
    found = []
    for line in lines:
        match = _EXPECT.match(line)
        assert match, f"{case.name}: malformed expectation {line!r}"
        found.append(Expectation(int(match.group(1)), int(match.group(2)), match.group(3)))
    return found


CASES = sorted(CORPUS.glob("*.yaml"))


def test_the_corpus_is_large_and_every_case_states_its_expectation() -> None:
    assert len(CASES) > 150
    for case in CASES:
        assert re.match(r"^\d{3}-[a-z0-9-]+\.yaml$", case.name), case.name
        assert expectations(case), f"{case.name} records no expected message"


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_invalid_manifest_is_rejected_with_its_message(case: Path) -> None:
    file = str(case)
    result = CliRunner().invoke(main, ["validate", "-f", file])
    output = result.output
    assert result.exit_code == 1, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output
    for expected in expectations(case):
        assert expected.needle(file) in output, f"missing:\n  {expected.needle(file)}\n{output}"


@pytest.mark.parametrize("case", CASES[:5], ids=lambda path: path.stem)
def test_invalid_manifest_as_json_reports_the_same_positions(case: Path) -> None:
    import json

    result = CliRunner().invoke(main, ["validate", "--json", "-f", str(case)])
    assert result.exit_code == 1
    reported = {
        (d["line"], d["col"]) for d in json.loads(result.stdout) if d["severity"] == "error"
    }
    for expected in expectations(case):
        assert (expected.line, expected.col) in reported


def test_the_network_guard_is_active() -> None:
    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("127.0.0.1", 9))
    with socket.socket() as sock, pytest.raises(AssertionError):
        sock.connect(("127.0.0.1", 9))
