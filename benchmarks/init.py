"""How long `odplan init` takes on each app of the corpus (tests/analyze/corpus/); target < 1 s.

Each app is written into a temporary folder, then `odplan init --json --force` runs on it:
in-process (the CLI through click, median of --runs, which is the cost of detection and
writing) and, unless --no-process, once as a fresh process (what a user waits for, interpreter
start and the manifest validator's imports included; noisy on a shared machine, so it is
shown beside the bare start-up of `odplan --version`). Prints one row per app and exits 1 if
any app's in-process time reaches the target.

    .venv/bin/python benchmarks/init.py [--runs 3] [--no-process] [--only NAME-FRAGMENT]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from click.testing import CliRunner  # noqa: E402

from opendeploy_plan.cli import main as cli  # noqa: E402
from tests.analyze.corpus import ALL_APPS, materialize  # noqa: E402

TARGET_SECONDS = 1.0


def _in_process(root: Path, runs: int) -> float:
    times: list[float] = []
    runner = CliRunner()
    for _ in range(runs):
        start = time.perf_counter()
        result = runner.invoke(cli, ["init", str(root), "--json", "--force"])
        times.append(time.perf_counter() - start)
        if result.exit_code != 0:
            raise SystemExit(f"odplan init {root.name} failed:\n{result.output}")
    return statistics.median(times)


def _process(root: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "opendeploy_plan", "init", str(root), "--json", "--force"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"odplan init {root.name} failed:\n{done.stderr.decode()}")
    return elapsed


def _startup() -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "opendeploy_plan", "--version"], capture_output=True, check=True
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-process", action="store_true")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    apps = [a for a in ALL_APPS if args.only in a.name]
    slow: list[str] = []
    print(f"{'app':34} {'in-process ms':>14} {'process ms':>11}")
    worst_in = worst_proc = 0.0
    with tempfile.TemporaryDirectory(prefix="odplan-bench-init-") as tmp:
        for app in apps:
            root = materialize(app, Path(tmp) / app.name)
            inside = _in_process(root, args.runs)
            outside = None if args.no_process else _process(root)
            worst_in = max(worst_in, inside)
            worst_proc = max(worst_proc, outside or 0.0)
            shown = "-" if outside is None else f"{outside * 1000:.0f}"
            print(f"{app.name:34} {inside * 1000:14.1f} {shown:>11}")
            if inside >= TARGET_SECONDS:
                slow.append(app.name)
    if not args.no_process:
        print(f"start-up alone (`odplan --version`): {_startup() * 1000:.0f} ms")
    print(
        f"{len(apps)} apps; worst in-process {worst_in * 1000:.0f} ms"
        + ("" if args.no_process else f", worst process {worst_proc * 1000:.0f} ms")
        + f"; target < {TARGET_SECONDS:.0f} s"
    )
    if slow:
        raise SystemExit(f"at or over the target: {', '.join(slow)}")


if __name__ == "__main__":
    main()
