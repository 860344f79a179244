"""How long `odplan validate` takes next to the bare cost of importing its two libraries.

Runs each command as a fresh subprocess N times, interleaved so machine noise hits all alike,
and prints median and best wall times with the ratio to `python -c "import pydantic, yaml"`.
Target: `odplan validate` within 1.5x of that baseline.

    .venv/bin/python benchmarks/validate.py [--runs 20] [--example fastapi-postgres-redis]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.5


def _time(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--example", default="fastapi-postgres-redis")
    args = parser.parse_args()
    manifest = REPO / "examples" / args.example / "opendeploy.yaml"
    python = sys.executable
    commands = {
        'python -c "import pydantic, yaml" (baseline)': [python, "-c", "import pydantic, yaml"],
        'python -c "from pydantic import BaseModel; import yaml"': [
            python,
            "-c",
            "from pydantic import BaseModel; import yaml",
        ],
        f"odplan validate -f examples/{args.example}/opendeploy.yaml": [
            python,
            "-m",
            "opendeploy_plan",
            "validate",
            "-f",
            str(manifest),
        ],
    }
    for command in commands.values():  # warm the file cache and .pyc files
        _time(command)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            samples[name].append(_time(command))

    baseline = statistics.median(next(iter(samples.values())))
    width = max(len(name) for name in commands)
    print(f"{args.runs} runs each, interleaved; times in milliseconds\n")
    print(f"{'command':<{width}}  {'median':>7}  {'best':>7}  {'ratio':>6}")
    print(f"{'-' * width}  {'-' * 7}  {'-' * 7}  {'-' * 6}")
    for name, times in samples.items():
        median = statistics.median(times)
        print(
            f"{name:<{width}}  {median * 1000:>7.1f}  {min(times) * 1000:>7.1f}  "
            f"{median / baseline:>5.2f}x"
        )
    ratio = statistics.median(list(samples.values())[-1]) / baseline
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"\nodplan validate / baseline = {ratio:.2f}x ({verdict} the {TARGET_RATIO}x target)")


if __name__ == "__main__":
    main()
