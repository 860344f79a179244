"""Fixtures for the analyze room: the mini-apps live in `fixtures/<name>/`."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
# `.env.example` files are committed as `dotenv.example`: no `.env*` file is ever tracked.
DOTENV_STANDIN = "dotenv.example"


@pytest.fixture(scope="session", autouse=True)
def dotenv_examples() -> Iterator[None]:
    """Put each fixture's `.env.example` in place for the session, and take it away after."""
    made = []
    for standin in sorted(FIXTURES.glob(f"*/{DOTENV_STANDIN}")):
        real = standin.with_name(".env.example")
        if not real.exists():
            shutil.copyfile(standin, real)
            made.append(real)
    yield
    for real in made:
        real.unlink(missing_ok=True)


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a fixture app into a temporary folder (init writes into the folder it analyses)."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns(DOTENV_STANDIN))
        return target

    return copy
