"""The command line's shell: version, help, lazy imports, and the registry's integrity."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from opendeploy_plan import __version__
from opendeploy_plan.cli import COMMANDS, main


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_lists_every_registered_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name, entry in COMMANDS.items():
        assert name in result.output
        assert entry.summary in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_command_imports(name: str) -> None:
    module_name, attribute = COMMANDS[name].target.split(":")
    command = getattr(importlib.import_module(module_name), attribute)
    assert isinstance(command, click.Command)


def test_help_does_not_import_heavy_modules() -> None:
    probe = (
        "import sys\n"
        "from opendeploy_plan.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('fastapi', 'uvicorn', 'networkx', 'deepdiff', 'httpx', 'pydantic')\n"
        "print('HEAVY=' + ','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY=\n" in out, out[-200:]


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "opendeploy_plan", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert __version__ in done.stdout


def test_a_usage_error_exits_1_never_2_which_means_changes() -> None:
    """`--detailed-exitcode` gives 2 for "changes": a typo in a CI command line must not."""
    for args in (["plan", "--detailed-exitcode", "-e", "prod"], ["nosuchcommand"], ["--bogus"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert "Error:" in result.output


def test_apply_parallelism_is_between_1_and_64() -> None:
    """0 would leave every action waiting forever; the bounds are refused before any call."""
    for value in ("0", "-1", "65"):
        result = CliRunner().invoke(main, ["apply", "--parallelism", value])
        assert result.exit_code == 1, (value, result.output)
        assert "Invalid value for '--parallelism'" in result.output
        assert "1<=x<=64" in result.output
