"""Which host toolchains the local runtime can use, found on PATH and in the usual folders.

A tool only counts when the user that runs user code can execute it (as root, that is
the unprivileged build user, who cannot reach e.g. a Python under /root/.pyenv).
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from opendeploy_plan.runtime.supervisor import RunAs, reachable_by

_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def _usable(path: str | None, run_as: RunAs | None) -> str | None:
    if not path:
        return None
    candidate = Path(path)
    if not candidate.is_file() or not reachable_by(candidate, run_as):
        return None
    real = candidate.resolve()
    if run_as is None:
        return str(candidate) if os.access(real, os.X_OK) else None
    return str(candidate) if real.stat().st_mode & 0o001 else None


def find_tool(name: str, run_as: RunAs | None, *extra: str) -> str | None:
    """`name` on PATH or the system folders, or one of `extra` (globs), usable by `run_as`."""
    search = os.environ.get("PATH", "") + os.pathsep + _SYSTEM_PATH
    for folder in search.split(os.pathsep):
        if folder and (found := _usable(os.path.join(folder, name), run_as)):
            return found
    for pattern in extra:
        for match in sorted(glob.glob(pattern), reverse=True):
            if found := _usable(match, run_as):
                return found
    return None


@dataclass(frozen=True)
class Toolchains:
    """Executables for builds and apps; None when absent or unusable by `run_as`."""

    python: str | None
    uv: str | None
    node: str | None
    npm: str | None
    pnpm: str | None
    yarn: str | None
    # The python's own pip can install into a venv (`pip --python`), so venvs need no pip.
    host_pip: bool = False

    @staticmethod
    def detect(run_as: RunAs | None) -> Toolchains:
        python = find_tool("python3", run_as, sys.executable)
        return Toolchains(
            python=python,
            uv=find_tool("uv", run_as),
            node=find_tool("node", run_as),
            npm=find_tool("npm", run_as),
            pnpm=find_tool("pnpm", run_as),
            yarn=find_tool("yarn", run_as),
            host_pip=python is not None and _has_pip(python),
        )

    def search_path(self) -> str:
        """A PATH for builds and apps: the folders of the found tools, then the system's."""
        folders: list[str] = []
        for tool in (self.python, self.uv, self.node, self.npm, self.pnpm, self.yarn):
            if tool and (folder := os.path.dirname(tool)) not in folders:
                folders.append(folder)
        return os.pathsep.join([*folders, _SYSTEM_PATH])


def _has_pip(python: str) -> bool:
    try:
        probe = subprocess.run(
            [python, "-c", "import pip, sys; sys.exit(int(pip.__version__.split('.')[0]) < 22)"],
            capture_output=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0
