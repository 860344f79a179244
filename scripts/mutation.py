"""Mutation testing of the pure rooms with mutmut (issue 19): `make mutation`, not in CI.

Each room is mutated in a scratch copy of the work tree (`/tmp/odplan-mutation/<room>`, kept
between runs so a rerun only retests what changed), against that room's fast unit tests only,
and the script prints a report: the score and every survivor with its diff. Survivors that are
equivalent mutations (no test can tell them apart) are listed with the reason in
`tests/mutation-equivalent.txt`; the report counts them apart.

    .venv/bin/python scripts/mutation.py                   # every room
    .venv/bin/python scripts/mutation.py plan state        # some rooms
    .venv/bin/python scripts/mutation.py plan --max-minutes 20 --children 2

A run that reaches `--max-minutes` is stopped (its process group, which this script started)
and reported as far as it got; the next run continues where it stopped.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = Path(os.environ.get("ODPLAN_MUTATION_DIR", "/tmp/odplan-mutation"))
EQUIVALENT_FILE = ROOT / "tests" / "mutation-equivalent.txt"
MUTMUT = Path(sys.executable).parent / "mutmut"


@dataclass(frozen=True)
class Room:
    """What to mutate (globs of files) and the fast tests that guard it."""

    mutate: tuple[str, ...]
    tests: tuple[str, ...]
    # Mutant-name globs the report leaves out (I/O code the unit tests do not reach by design:
    # mutmut finds no test for them, so they cost no test run).
    skip: tuple[str, ...] = field(default=())


ROOMS: dict[str, Room] = {
    "plan": Room(
        mutate=("opendeploy_plan/plan/*",),
        tests=(
            "tests/plan",
            "tests/unit/test_state_time.py",
            "tests/unit/test_refresh_rules.py",
            # What plan/ gives the other rooms: unread dependency env, stamps, history rows.
            "tests/unit/test_unread_fields.py",
            "tests/ops/test_pure.py",
            "tests/ops/test_history.py",
        ),
    ),
    "state": Room(
        mutate=("opendeploy_plan/state/model.py", "opendeploy_plan/state/refresh.py"),
        tests=(
            "tests/unit/test_state_time.py",
            "tests/unit/test_refresh_rules.py",
            "tests/unit/test_refresh_attribution.py",
            "tests/plan",
        ),
        # refresh() and _service_detail() read the gateway: the end-to-end tests guard them.
        skip=("*refresh.x_refresh__*", "*refresh.x__service_detail__*"),
    ),
    "manifest": Room(
        mutate=("opendeploy_plan/manifest/*",),
        tests=(
            "tests/manifest/test_loader.py",
            "tests/manifest/test_diagnostics.py",
            "tests/manifest/test_templates.py",
            "tests/manifest/test_envfiles.py",
            "tests/manifest/test_corpus.py",
            "tests/manifest/test_roundtrip.py",
            "tests/manifest/test_schema.py",
            # models.py, checks.py, templates.py (issue 19, m19-manB):
            "tests/manifest/test_model_limits.py",
            "tests/manifest/test_cross_checks.py",
            "tests/manifest/test_template_edges.py",
            # loader, _yaml, envfiles, dump and schema (issue 19, manifest part A).
            "tests/manifest/test_empty_secrets.py",
            "tests/manifest/test_dump_text.py",
            "tests/manifest/test_loader_errors.py",
            "tests/manifest/test_loader_messages.py",
            "tests/manifest/test_overlay_results.py",
            "tests/manifest/test_yaml_reading.py",
            "tests/manifest/test_envfiles_reading.py",
        ),
    ),
    "source": Room(
        mutate=("opendeploy_plan/source/_select.py", "opendeploy_plan/source/_rules.py"),
        tests=(
            "tests/source/test_selection.py",
            "tests/source/test_manifest_not_source.py",
            "tests/source/test_rules_git_oracle.py",
            "tests/source/test_env_files_never_uploaded.py",
            # The walker's listing cache (_select._replay) and its link handling.
            "tests/source/test_listing_cache.py",
            "tests/source/test_credentials_and_names.py",
            # Issue 19's survivors: rule edges against git, walker and link edges, views.
            "tests/source/test_rule_patterns.py",
            "tests/source/test_walk_edges.py",
            "tests/source/test_selection_views.py",
        ),
    ),
    "gateway": Room(
        # The retry decisions and the credential store (file names after the issue-18 split
        # of gateway/_client.py; a glob that matches nothing is reported and skipped).
        mutate=("opendeploy_plan/gateway/_credentials.py", "opendeploy_plan/gateway/_retry*.py"),
        tests=(
            "tests/gateway/test_credentials*.py",
            "tests/gateway/test_retry*.py",
            "tests/gateway/test_wait_scale.py",
        ),
    ),
}

# What the tests read besides the code (mutmut copies these on into its `mutants/` folder).
_DATA = ("schemas", "examples", "README.md", "opendeploy.yaml.example")
_COPIED = ("opendeploy_plan", "tests", "pyproject.toml", *_DATA)
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache")


def _existing(globs: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for pattern in globs:
        matches = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(pattern))
        if not matches:
            print(f"    (nothing matches {pattern}: skipped)")
        found += matches
    return found


def _refresh_unmutated(work: Path, mutated: set[str]) -> None:
    """mutmut copies the code into `mutants/` once and keeps it: bring the files it does not
    mutate up to date there (those it mutates, it regenerates itself when they change)."""
    copy = work / "mutants"
    if not copy.is_dir():
        return
    for source in (ROOT / "opendeploy_plan").rglob("*.py"):
        relative = str(source.relative_to(ROOT))
        target = copy / relative
        if relative not in mutated and (
            not target.exists() or target.read_bytes() != source.read_bytes()
        ):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _prepare(name: str, room: Room, only: list[str]) -> Path | None:
    """The room's scratch copy with its mutmut config; None when it has nothing to mutate.
    `only` (globs) narrows the files mutated, for work on one part of a room."""
    mutate = [m for m in _existing(room.mutate) if m.endswith(".py")]
    if only:
        mutate = [m for m in mutate if any(fnmatch.fnmatch(m, o) for o in only)]
    tests = _existing(room.tests)
    if not mutate or not tests:
        return None
    work = SCRATCH / name
    work.mkdir(parents=True, exist_ok=True)
    for item in _COPIED:
        source, target = ROOT / item, work / item
        if source.is_dir():
            shutil.copytree(source, target, ignore=_IGNORED, dirs_exist_ok=True)
        elif source.exists():
            shutil.copy2(source, target)
    _refresh_unmutated(work, set(mutate))
    config = {
        "source_paths": ["opendeploy_plan"],
        "only_mutate": mutate,
        "pytest_add_cli_args_test_selection": tests,
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q", "-x"],
        "also_copy": list(_DATA),
        "use_git_change_detection": False,
        "debug": False,
    }
    lines = ["", "[tool.mutmut]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    pyproject = work / "pyproject.toml"
    text = pyproject.read_text()
    text = text.split("\n[tool.mutmut]")[0]  # a previous run's section
    pyproject.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n")
    return work


def _mutmut(work: Path, arguments: list[str], deadline: float) -> str:
    """One `mutmut run` in `work` until done or `deadline`: "finished", "stopped" or "failed"."""
    with (work / "mutmut-run.log").open("a") as log:
        process = subprocess.Popen(
            [str(MUTMUT), "run", *arguments],
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Property tests run once per mutant: fewer examples keep a room under the hour.
            env={**os.environ, "ODPLAN_HYPOTHESIS_EXAMPLES": "12"},
        )
        try:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
            return "finished" if process.returncode == 0 else "failed"
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)  # the session this script started
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            return "stopped"


def _run(work: Path, children: int, deadline: float) -> str:
    """Retest the previous run's survivors (mutmut lets a result stand unless a mutant is
    named, and tests may have been added since), then test the mutants not yet checked."""
    (work / "mutmut-run.log").write_text("")
    arguments = ["--max-children", str(children)]
    # mutmut keeps its map of which tests reach which function and does not redo it for old
    # tests when a function is new or rewritten: a mutant of new code then "survives" because
    # no test is run for it. Dropping the map makes mutmut trace the room's tests once more.
    (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    if (work / "mutants").is_dir():
        again = [k for k, v in _results(work).items() if v in ("survived", "no tests")]
        if again:
            outcome = _mutmut(work, [*arguments, *again], deadline)
            if outcome != "finished":
                return outcome
    return _mutmut(work, arguments, deadline)


def _results(work: Path) -> dict[str, str]:
    out = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        match = re.match(r"\s+(\S+): (.+)$", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def _show(work: Path, mutant: str) -> str:
    return subprocess.run(
        [str(MUTMUT), "show", mutant], cwd=work, capture_output=True, text=True, check=False
    ).stdout.strip()


def equivalent_mutants() -> dict[str, str]:
    """`{mutant name or glob: reason}` from tests/mutation-equivalent.txt."""
    listed: dict[str, str] = {}
    if EQUIVALENT_FILE.exists():
        for line in EQUIVALENT_FILE.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                listed[name] = reason.strip(" -—")
    return listed


def _report(name: str, room: Room, results: dict[str, str], seconds: float, done: str) -> dict:
    considered = {
        k: v for k, v in results.items() if not any(fnmatch.fnmatch(k, s) for s in room.skip)
    }
    counts: dict[str, int] = {}
    for status in considered.values():
        counts[status] = counts.get(status, 0) + 1
    equivalent = equivalent_mutants()
    survivors = sorted(k for k, v in considered.items() if v in ("survived", "no tests"))
    listed = [s for s in survivors if any(fnmatch.fnmatch(s, e) for e in equivalent)]
    killed = sum(counts.get(s, 0) for s in ("killed", "timeout", "caught by type check"))
    # A mutant no test runs is not killed: it counts against the score like a survivor.
    checked = killed + sum(counts.get(s, 0) for s in ("survived", "suspicious", "no tests"))
    score = killed / checked if checked else 0.0
    adjusted = (killed + len(listed)) / checked if checked else 0.0
    return {
        "room": name,
        "outcome": done,
        "seconds": round(seconds),
        "mutants": len(considered),
        "counts": counts,
        "score": round(score, 4),
        "score_with_equivalents": round(adjusted, 4),
        "survivors": [s for s in survivors if s not in listed],
        "equivalent": listed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rooms", nargs="*", help=f"some of: {', '.join(ROOMS)} (default: all)")
    parser.add_argument("--max-minutes", type=float, default=30.0, help="per room")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--no-diffs", action="store_true", help="list survivors without diffs")
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help="mutate only the room's files matching GLOB (repeatable; use its own "
        "ODPLAN_MUTATION_DIR, since the scratch copy remembers what it mutated)",
    )
    args = parser.parse_args(argv)
    if not MUTMUT.exists():
        print("mutmut is not installed: .venv/bin/pip install -e '.[mutation]'", file=sys.stderr)
        return 2
    unknown = [r for r in args.rooms if r not in ROOMS]
    if unknown:
        parser.error(f"unknown room(s) {', '.join(unknown)}; choose from {', '.join(ROOMS)}")
    reports = []
    for name in args.rooms or list(ROOMS):
        room = ROOMS[name]
        print(f"== {name}")
        work = _prepare(name, room, args.only)
        if work is None:
            print("    nothing to mutate or no tests: skipped")
            continue
        started = time.monotonic()
        done = _run(work, args.children, started + args.max_minutes * 60)
        seconds = time.monotonic() - started
        report = _report(name, room, _results(work), seconds, done)
        reports.append(report)
        state = {
            "finished": "finished",
            "stopped": f"stopped after {args.max_minutes:g} min (resumable)",
            "failed": f"mutmut failed: see {work / 'mutmut-run.log'}",
        }[done]
        print(
            f"    {state} in {report['seconds']} s; {report['mutants']} mutants: {report['counts']}"
        )
        print(
            f"    score {report['score']:.1%} "
            f"({report['score_with_equivalents']:.1%} counting {len(report['equivalent'])} "
            "listed equivalents as killed)"
        )
        for survivor in report["survivors"]:
            print(f"    SURVIVED {survivor}")
            if not args.no_diffs:
                print("\n".join("        " + line for line in _show(work, survivor).splitlines()))
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
