"""`odplan` as a child process with a private HOME and none of the caller's OD_/OPDEPLOY_
settings: what the local-platform tests run, as a user would from a shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def odplan(
    home: Path, *args: str, cwd: Path | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OD_", "OPDEPLOY_"))}
    env.update({"HOME": str(home), "NO_COLOR": "1"})
    return subprocess.run(
        [sys.executable, "-m", "opendeploy_plan", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
