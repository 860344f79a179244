"""Fixtures for the local runtime: folders user code can reach, a running LocalRuntime."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from opendeploy_plan.runtime.engine import LocalRuntime, default_cache_dir
from opendeploy_plan.runtime.router import Router
from opendeploy_plan.runtime.toolchains import Toolchains

FIXTURES = Path(__file__).parent / "fixtures"
# The runtime's own shared cache (content-keyed, like pip's): warm, it turns the database
# example's install into seconds, and the gateway-level tests use it too.
SHARED_CACHE = default_cache_dir()
# The toolchains of a machine with Python and npm but neither pnpm nor yarn (build plans only:
# nothing is run from these paths).
NPM_ONLY = Toolchains(
    python="/usr/bin/python3",
    uv=None,
    node="/usr/bin/node",
    npm="/usr/bin/npm",
    pnpm=None,
    yarn=None,
)


def reachable_tmp(prefix: str) -> Path:
    """A fresh folder the unprivileged build user can traverse (pytest's tmp_path, under a
    root-only folder, is not)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=tempfile.gettempdir()))
    folder.chmod(0o755)
    return folder


@pytest.fixture
def work_dir() -> Iterator[Path]:
    folder = reachable_tmp("odplan-rt-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def app_copy(work_dir: Path):  # type: ignore[no-untyped-def]
    """Copy a fixture app into a writable folder (tests edit a line and redeploy)."""

    def copy(name: str) -> Path:
        target = work_dir / "src" / name
        shutil.copytree(FIXTURES / name, target)
        return target

    return copy


@pytest.fixture
def runtime(work_dir: Path) -> Iterator[LocalRuntime]:
    local = LocalRuntime(work_dir / "local", cache_dir=SHARED_CACHE)
    local.start()
    yield local
    local.shutdown()


def get_through_router(runtime: LocalRuntime, host: str, path: str = "/") -> httpx.Response:
    return httpx.get(
        f"http://127.0.0.1:{runtime.router.port}{path}", headers={"Host": host}, timeout=10
    )


def wait_for(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def router() -> Iterator[Router]:
    """A started local router on an ephemeral port, stopped after the test."""
    local = Router()
    local.start()
    yield local
    local.stop()
