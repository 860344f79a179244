"""The `odplan` command line: a thin, lazily loaded group of commands.

Each command lives in its own module under `opendeploy_plan.cli` and is imported only when it
runs, so `odplan --help` stays fast and never imports the web stack or the planner. A command
is flags → engine (or ops) → view: it parses its flags, calls `engine`/`ops` for the work and
hands the result to its view in `cli.views` (one interface, human and JSON implementations).
Command modules never import one another; what several share lives in `views`, `options`
(gateway flags, errors), `planning` (planning flags, one planning pass) and `operate` (project
flags for the day-two commands).
"""

from __future__ import annotations

import atexit
import functools
import gc
import importlib
import os
import sys
import types
from dataclasses import dataclass
from typing import Any

import click

from opendeploy_plan import __version__

__all__ = ["COMMANDS", "CommandEntry", "LazyGroup", "UsageError", "main"]


def _defer_httpx_cli() -> None:
    """Keep httpx's own command line (`httpx._main`) out of every `odplan` process.

    httpx's `__init__` imports `httpx._main` whenever click and rich are installed (they are:
    we use both), and that module pulls in rich.progress, rich.syntax, rich.table and pygments
    for the `httpx` console script, which odplan never runs. A stand-in registered before httpx
    is first imported gives httpx the `main` it re-exports; calling it loads the real module
    then, so `httpx.main` still works."""
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    stand_in = types.ModuleType("httpx._main", "Stand-in: the real module loads on first call.")

    def main(*args: Any, **kwargs: Any) -> Any:
        if sys.modules.get("httpx._main") is stand_in:
            del sys.modules["httpx._main"]
        return importlib.import_module("httpx._main").main(*args, **kwargs)

    stand_in.main = main  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = stand_in


@functools.cache
def _tune_process() -> None:
    """Settings for a short-lived `odplan` process, made when a command line runs (never on a
    mere import of this package: a test or a tool importing it keeps its own process as it is)."""
    _defer_httpx_cli()
    # Pydantic looks for plugins (`pydantic` entry points) when it builds its first validator,
    # by reading the metadata of every installed distribution: ~30-50 ms of CPU per `odplan`
    # run, for plugins (tracing, linting) that have no business inside odplan's own
    # validation. An explicit setting of the user's wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # The garbage collector, tuned for a process that imports ~500 modules and then exits
    # within seconds (issue 13's benchmark: every apply is a new process). A young generation
    # of 10,000 objects instead of 700 turns ~120 collections while importing into ~10 (~30 ms
    # of CPU); and at exit everything left is frozen, so the interpreter does not walk and free
    # every module's objects one by one (~100 ms of CPU) before the OS takes the memory back
    # anyway. Files and sockets are closed by their `with` blocks and stdio is flushed by the
    # interpreter either way.
    gc.set_threshold(10_000, 10, 10)
    atexit.register(gc.freeze)


@dataclass(frozen=True)
class CommandEntry:
    """Where a command lives (`module:attribute`) and its one-line help for `odplan --help`."""

    target: str
    summary: str


# One line per command: the help listing is read from here, never by importing the module.
COMMANDS: dict[str, CommandEntry] = {
    "validate": CommandEntry(
        "opendeploy_plan.cli.validate:validate", "Check opendeploy.yaml offline."
    ),
    "schema": CommandEntry(
        "opendeploy_plan.cli.schema:schema", "Print the JSON Schema of opendeploy.yaml."
    ),
    "package": CommandEntry(
        "opendeploy_plan.cli.package:package", "Show or write the source archive to upload."
    ),
    "gateway": CommandEntry(
        "opendeploy_plan.cli.gateway:gateway", "Run the embedded local opendeploy gateway."
    ),
    "login": CommandEntry("opendeploy_plan.cli.auth:login", "Save a credential for the gateway."),
    "whoami": CommandEntry("opendeploy_plan.cli.auth:whoami", "Show the credential in use."),
    "logout": CommandEntry("opendeploy_plan.cli.auth:logout", "Forget the saved credential."),
    "plan": CommandEntry(
        "opendeploy_plan.cli.plan:plan",
        "Show what apply would do (--detailed-exitcode: exit 2 if any).",
    ),
    "graph": CommandEntry(
        "opendeploy_plan.cli.graph:graph", "Print the plan's action graph (dot or mermaid)."
    ),
    "apply": CommandEntry(
        "opendeploy_plan.cli.apply:apply", "Apply the manifest or a saved plan; print the live URL."
    ),
    "destroy": CommandEntry(
        "opendeploy_plan.cli.destroy:destroy",
        "Delete what the manifest manages (keeps data).",
    ),
    "init": CommandEntry(
        "opendeploy_plan.cli.init:init", "Detect the project and write opendeploy.yaml."
    ),
    "import": CommandEntry(
        "opendeploy_plan.cli.import_cmd:import_project",
        "Write opendeploy.yaml from a live project.",
    ),
    "status": CommandEntry(
        "opendeploy_plan.cli.status:status",
        "Show live services and whether they match the manifest.",
    ),
    "logs": CommandEntry(
        "opendeploy_plan.cli.logs:logs", "Show a service's runtime or build logs."
    ),
    "deployments": CommandEntry(
        "opendeploy_plan.cli.deployments:deployments",
        "List a service's deployments and which one serves.",
    ),
    "redeploy": CommandEntry(
        "opendeploy_plan.cli.redeploy:redeploy", "Redeploy a service from its current source."
    ),
    "rollback": CommandEntry(
        "opendeploy_plan.cli.rollback:rollback", "Roll a service back to an earlier deployment."
    ),
    "cancel": CommandEntry(
        "opendeploy_plan.cli.cancel:cancel", "Cancel a service's deployment in flight."
    ),
}


class UsageError(click.UsageError):
    """A command-line mistake; exits 1 (click's own usage errors exit 2)."""

    exit_code = 1


def _exit_one(error: click.UsageError) -> UsageError:
    return UsageError(error.format_message(), error.ctx)


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command is invoked."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        _tune_process()
        return super().main(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = entry.target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{entry.target} is not a click command")
        return command

    # A usage error exits 1, not click's 2: with `--detailed-exitcode`, 2 means "changes", so a
    # typo in a CI command line must never read as drift (Terraform exits 1 too).
    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except UsageError:
            raise
        except click.UsageError as error:
            raise _exit_one(error) from error

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError:
            raise
        except click.UsageError as error:
            raise _exit_one(error) from error

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name].summary) for name in sorted(COMMANDS)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="odplan")
def main() -> None:
    """Declarative deploys to opendeploy: validate, plan, apply."""
