"""How long a command takes to say that nothing answers at the gateway (issue 16: ≤ 1 s).

A refused connection is not retried (`gateway._retry`: nothing listens there, a retry cannot
help), so the error should come as fast as the connection is refused. Measures, against a
127.0.0.1 port with nothing listening:

* the client: from the request to `GatewayUnreachable`, in-process (no import time);
* `odplan status --gateway URL`: the whole command as a child process (its import time included,
  which on a loaded machine dominates).

    .venv/bin/python benchmarks/refused.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opendeploy_plan.gateway import GatewayClient, GatewayUnreachable


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def client_seconds(url: str) -> float:
    client = GatewayClient(url, "benchmark-token")
    started = time.perf_counter()
    try:
        await client.regions()
    except GatewayUnreachable:
        return time.perf_counter() - started
    finally:
        await client.aclose()
    raise SystemExit("something answered on the closed port")


def command_seconds(url: str, home: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OD_", "OPDEPLOY_"))}
    env.update({"HOME": str(home), "OD_API_KEY": "benchmark-token", "NO_COLOR": "1"})
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "opendeploy_plan", "status", "--project", "bench", "--gateway", url],
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 1 or "--gateway local" not in result.stderr:
        raise SystemExit(f"unexpected answer: exit {result.returncode}\n{result.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    url = f"http://127.0.0.1:{closed_port()}/api"
    client = [asyncio.run(client_seconds(url)) for _ in range(args.runs)]
    with tempfile.TemporaryDirectory() as tmp:
        command = [command_seconds(url, Path(tmp)) for _ in range(args.runs)]
    print(f"refused connection -> error ({args.runs} runs, median / max, seconds)")
    print(f"{'what':<46}{'median':>8}{'max':>8}")
    print(
        f"{'client request -> GatewayUnreachable':<46}{statistics.median(client):8.3f}"
        f"{max(client):8.3f}"
    )
    print(
        f"{'odplan status (whole process, imports incl.)':<46}"
        f"{statistics.median(command):8.3f}{max(command):8.3f}"
    )


if __name__ == "__main__":
    main()
