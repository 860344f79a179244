"""The command line's shape: flags → engine → view, and no command imports another."""

from __future__ import annotations

import ast
from pathlib import Path

from opendeploy_plan.cli import COMMANDS

CLI = Path(__file__).parents[2] / "opendeploy_plan" / "cli"
SHARED = {
    "opendeploy_plan.cli.options",
    "opendeploy_plan.cli.planning",
    "opendeploy_plan.cli.operate",
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_command_module_imports_another_command_module() -> None:
    command_modules = {entry.target.split(":")[0] for entry in COMMANDS.values()}
    assert not command_modules & SHARED
    for module in sorted(command_modules):
        path = CLI / f"{module.rsplit('.', 1)[1]}.py"
        cli_imports = {
            m
            for m in _imports(path)
            if m.startswith("opendeploy_plan.cli") and not m.startswith("opendeploy_plan.cli.views")
        }
        assert cli_imports <= SHARED, f"{module} imports {cli_imports - SHARED}"


def test_commands_do_not_print_json_themselves() -> None:
    """JSON documents come from the views (`cli/views/`), never from a command module."""
    for path in sorted(CLI.glob("*.py")):
        assert "json.dumps" not in path.read_text(encoding="utf-8"), path.name
