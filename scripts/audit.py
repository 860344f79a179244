"""Run a hand-written mutation audit: each `.diff` in a folder is one single-line bug.

Every diff starts with two comment lines (git apply ignores text before the first diff header):

    # what: <the bug, in one line>
    # tests: <pytest arguments that should catch it, e.g. tests/apply -k lost>

For each mutant the script applies the diff, runs its `# tests:` (`-x -q -p no:cacheprovider`,
with a wall-clock limit), and when they all pass runs the whole room of the mutated file
(`ROOMS`); then it reverts the diff and checks the file is clean again. A failing test counts
as a kill only when the same test passes on the unmutated code and fails again when run alone
on the mutant (some timing tests are flaky under load): a test that fails on both, or fails
only once, is deselected and the run repeated. A mutant whose
tests hit the wall-clock limit is reported as killed by timeout (it hangs the suite).

    .venv/bin/python scripts/audit.py                       # every diff in scripts/audit/core
    .venv/bin/python scripts/audit.py K07 K31               # some of them
    .venv/bin/python scripts/audit.py --folder scripts/audit/edges --no-room --out report.md
    .venv/bin/python scripts/audit.py --folder scripts/audit/round5 --no-room --tests-workers 2

No bytecode is written during a run and the package's cache is emptied first (a same-size
mutant reverted within its second would otherwise run on from a stale .pyc).

It prints a Markdown table (id | file:line | what | killed by / survived) and the score.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest"]
BASE_ARGS = ["-x", "-q", "-p", "no:cacheprovider"]
# The whole room of a mutated package, run (on two workers) when its own tests miss a mutant.
_DAY_TWO = ["tests/ops", "tests/unit", "tests/e2e", "-m", "not slow"]
ROOMS: dict[str, list[str]] = {
    "opendeploy_plan/apply/": ["tests/apply"],
    "opendeploy_plan/gateway/": ["tests/gateway"],
    "opendeploy_plan/engine/": [
        "tests/unit",
        "tests/e2e",
        "tests/emulator",
        "tests/render",
        "-m",
        "not slow",
    ],
    "opendeploy_plan/state/": ["tests/unit", "tests/ops", "-m", "not slow"],
    # `odplan init` is tested with the detection it drives.
    "opendeploy_plan/cli/init.py": ["tests/analyze", "tests/unit", "-m", "not slow"],
    # The day-two commands are tested with the operations they drive (tests/ops).
    "opendeploy_plan/cli/logs.py": _DAY_TWO,
    "opendeploy_plan/cli/status.py": _DAY_TWO,
    "opendeploy_plan/cli/redeploy.py": _DAY_TWO,
    "opendeploy_plan/cli/rollback.py": _DAY_TWO,
    "opendeploy_plan/cli/cancel.py": _DAY_TWO,
    "opendeploy_plan/cli/import_cmd.py": _DAY_TWO,
    "opendeploy_plan/cli/deployments.py": _DAY_TWO,
    "opendeploy_plan/cli/operate.py": _DAY_TWO,
    "opendeploy_plan/cli/views/operation.py": _DAY_TWO,
    "opendeploy_plan/cli/views/status.py": _DAY_TWO,
    "opendeploy_plan/cli/": ["tests/unit", "tests/e2e", "-m", "not slow"],
    "opendeploy_plan/source/": ["tests/source", "-m", "not slow"],
    "opendeploy_plan/ops/": ["tests/ops", "-m", "not slow"],
    "opendeploy_plan/render/": ["tests/render", "tests/plan", "-m", "not slow"],
    "opendeploy_plan/fsutil.py": ["tests/unit", "-m", "not slow"],
    "opendeploy_plan/textsafe.py": ["tests/gateway", "-m", "not slow"],
    "opendeploy_plan/plan/": ["tests/plan", "tests/unit", "-m", "not slow"],
    "opendeploy_plan/manifest/": ["tests/manifest", "tests/unit", "-m", "not slow"],
    "opendeploy_plan/analyze/": ["tests/analyze", "-m", "not slow"],
    "opendeploy_plan/runtime/": ["tests/runtime", "-m", "not slow"],
    "opendeploy_plan/emulator/": ["tests/emulator", "-m", "not slow"],
}
_FAILED = re.compile(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", re.MULTILINE)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@", re.MULTILINE)


@dataclass(frozen=True)
class Mutant:
    """One diff file: its id, the file and first changed line, what it breaks, its tests."""

    ident: str
    diff: Path
    file: str
    line: int
    what: str
    tests: list[str]

    @classmethod
    def read(cls, path: Path) -> Mutant:
        text = path.read_text(encoding="utf-8")
        what = _header(text, "what")
        tests = shlex.split(_header(text, "tests"))
        target = re.search(r"^\+\+\+ b/(\S+)", text, re.MULTILINE)
        if target is None:
            raise SystemExit(f"{path}: no `+++ b/FILE` line")
        return cls(path.stem, path, target.group(1), _first_changed_line(text), what, tests)


def _header(text: str, name: str) -> str:
    found = re.search(rf"^# {name}:\s*(.*)$", text, re.MULTILINE)
    return found.group(1).strip() if found else ""


def _first_changed_line(diff: str) -> int:
    """The new-file line number of the first added (or else removed) line of the first hunk."""
    hunk = _HUNK.search(diff)
    if hunk is None:
        return 0
    line = int(hunk.group(1))
    for row in diff[hunk.end() :].splitlines()[1:]:
        if row.startswith(("+", "-")):
            return line
        line += 1
    return int(hunk.group(1))


@dataclass
class Outcome:
    """How one mutant ended: `killed_by` names the test (or "timeout"), empty if it survived."""

    ident: str
    location: str
    what: str
    killed_by: str = ""
    stage: str = ""  # "tests" (its own `# tests:`) or "room"
    flaky: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class Run:
    """One pytest run: exit code, the failing node ids, whether it hit the wall clock."""

    code: int
    failed: list[str]
    timed_out: bool
    tail: str


# Python trusts a cached .pyc whose source has the same size and modification second: a
# mutant that keeps the line's length (`return 1` -> `return 2`), reverted within the second it
# was compiled in, would keep running from the cache. No bytecode is written during an audit,
# and the cache is emptied before it starts (`purge_bytecode`).
_ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def purge_bytecode() -> None:
    for cache in (ROOT / "opendeploy_plan").rglob("__pycache__"):
        for compiled in cache.glob("*.pyc"):
            compiled.unlink()


def pytest(args: list[str], timeout: float) -> Run:
    """Run pytest in its own process group; on timeout, end exactly that group."""
    with subprocess.Popen(
        [*PYTEST, *args],
        cwd=ROOT,
        env=_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            return Run(-1, [], True, out[-2000:])
    return Run(proc.returncode, _FAILED.findall(out), False, out[-2000:])


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def room_of(file: str) -> list[str]:
    for prefix, room in ROOMS.items():
        if file.startswith(prefix):
            return room
    # The small shared modules are reached from everywhere: their room is the fast suite.
    return ["tests", "-m", "not slow"]


def confirmed(
    failed: list[str], timeout: float, notes: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """Split failing tests into those that pass on the clean code (kills) and flaky ones (the
    last lines of a flaky one's clean run go to `notes`, to tell why it fails there)."""
    kills: list[str] = []
    flaky: list[str] = []
    for node in failed:
        clean = pytest([node, "-q", "-p", "no:cacheprovider"], timeout)
        (kills if clean.code == 0 else flaky).append(node)
        if clean.code != 0 and notes is not None:
            notes.append(f"{node} fails on the clean code too: {clean.tail[-600:]}")
    return kills, flaky


def _fails(node: str, timeout: float) -> bool:
    """True when `node`, run alone on the applied mutant, fails (or hangs)."""
    run = pytest([node, "-q", "-p", "no:cacheprovider"], timeout)
    return run.timed_out or run.code != 0


def stage(
    mutant: Mutant, args: list[str], timeout: float, outcome: Outcome, name: str, tries: int = 6
) -> bool:
    """Run `args` against the applied mutant; True when it is killed (recorded in `outcome`).
    The mutant is reverted before clean re-runs confirm a failure, and applied again after."""
    deselect: list[str] = []
    for _ in range(tries):
        run = pytest([*args, *BASE_ARGS, *deselect], timeout)
        if run.timed_out:
            outcome.killed_by, outcome.stage = f"timeout ({timeout:.0f} s)", name
            return True
        if run.code == 5:
            outcome.notes.append(f"{name}: no test selected")
            return False
        if run.code == 0:
            return False
        revert(mutant)
        try:
            if run.failed:
                kills, flaky = confirmed(run.failed, timeout, outcome.notes)
            else:
                # No test id to blame (a collection or import error): it is the mutant's if
                # the same selection passes on the clean code.
                clean = pytest([*args, *BASE_ARGS, *deselect], timeout)
                kills = [f"pytest exit {run.code}"] if clean.code in (0, 5) else []
                flaky = []
        finally:
            apply(mutant)
        # A kill must also repeat: run alone on the mutant, the test fails again. One that
        # failed only once under load (and passes on both) is flaky, not a kill.
        repeated = [
            node for node in kills if node.startswith("pytest exit") or _fails(node, timeout)
        ]
        for node in kills:
            if node not in repeated:
                outcome.notes.append(f"{node} failed once on the mutant but passes on it alone")
                flaky.append(node)
        kills = repeated
        if kills:
            outcome.killed_by, outcome.stage = kills[0], name
            return True
        if not flaky:
            return False  # fails the same way on clean code: this selection cannot judge
        outcome.flaky.extend(flaky)
        deselect += [f"--deselect={node}" for node in flaky]
    return False


def apply(mutant: Mutant) -> None:
    done = git("apply", str(mutant.diff))
    if done.returncode != 0:
        raise SystemExit(f"{mutant.ident}: git apply failed: {done.stderr.strip()}")


def revert(mutant: Mutant) -> None:
    done = git("apply", "-R", str(mutant.diff))
    if done.returncode != 0 or git("diff", "--quiet", "--", mutant.file).returncode != 0:
        raise SystemExit(f"{mutant.ident}: {mutant.file} is not clean after reverting")


def audit(mutant: Mutant, args: argparse.Namespace) -> Outcome:
    outcome = Outcome(mutant.ident, f"{mutant.file}:{mutant.line}", mutant.what)
    started = time.monotonic()
    if git("diff", "--quiet", "--", mutant.file).returncode != 0:
        raise SystemExit(f"{mutant.file} has uncommitted changes: commit them first")
    apply(mutant)
    try:
        tests = [*mutant.tests, *(["-n", str(args.tests_workers)] if args.tests_workers else [])]
        killed = bool(mutant.tests) and stage(mutant, tests, args.timeout, outcome, "tests")
        if not killed and args.room:
            room = [*room_of(mutant.file), "-n", str(args.workers)]
            stage(mutant, room, args.room_timeout, outcome, "room")
    finally:
        revert(mutant)
    outcome.seconds = round(time.monotonic() - started, 1)
    return outcome


def table(outcomes: list[Outcome]) -> str:
    rows = ["| id | file:line | what | killed by / survived |", "| --- | --- | --- | --- |"]
    for o in outcomes:
        result = f"`{o.killed_by}`" if o.killed_by else "**survived**"
        if o.killed_by and o.stage == "room":
            result += " (room)"
        if o.flaky:
            result += f"; flaky, not counted: {', '.join(f'`{f}`' for f in o.flaky)}"
        rows.append(f"| {o.ident} | `{o.location}` | {o.what} | {result} |")
    killed = sum(1 for o in outcomes if o.killed_by)
    total = len(outcomes)
    score = 100.0 * killed / total if total else 0.0
    rows += ["", f"Score: {killed}/{total} killed ({score:.1f} %)."]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*", help="mutant ids (diff file names without .diff)")
    parser.add_argument("--folder", type=Path, default=ROOT / "scripts" / "audit" / "core")
    parser.add_argument("--timeout", type=float, default=420.0, help="seconds per test run")
    parser.add_argument("--room-timeout", type=float, default=1500.0)
    parser.add_argument("--workers", type=int, default=2, help="xdist workers for a room run")
    parser.add_argument(
        "--tests-workers",
        type=int,
        default=0,
        help="xdist workers for a mutant's own tests (0: one process; a whole room as a mutant's "
        "`# tests:` runs much faster on two)",
    )
    parser.add_argument("--no-room", dest="room", action="store_false")
    parser.add_argument("--out", type=Path, help="also write the table here")
    parser.add_argument("--json", type=Path, help="append each outcome here as it is known")
    args = parser.parse_args(argv)
    paths = sorted(args.folder.glob("*.diff"))
    if args.ids:
        paths = [p for p in paths if p.stem in set(args.ids)]
    mutants = [Mutant.read(p) for p in paths]
    if not mutants:
        parser.error("no mutants selected")
    started = time.monotonic()
    outcomes: list[Outcome] = []
    purge_bytecode()
    for mutant in mutants:
        outcome = audit(mutant, args)
        outcomes.append(outcome)
        print(
            f"{outcome.ident}: {outcome.killed_by or 'SURVIVED'} ({outcome.seconds} s)",
            file=sys.stderr,
            flush=True,
        )
        if args.json:
            with args.json.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(asdict(outcome)) + "\n")
    report = table(outcomes) + f"\nRun time: {time.monotonic() - started:.0f} s.\n"
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
