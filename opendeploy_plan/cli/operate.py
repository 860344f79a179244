"""What the day-two commands share: which project and service they act on (`--project`, or the
manifest's), and running the async part with a clean Ctrl-C (exit 130)."""

from __future__ import annotations

import asyncio
import functools
import os
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from opendeploy_plan.cli.options import fail, gateway_errors

if TYPE_CHECKING:
    from opendeploy_plan.engine.prepare import Prepared
    from opendeploy_plan.gateway import GatewayClient, Project, Service

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

EXIT_INTERRUPTED = 130
DEFAULT_MANIFEST = Path("opendeploy.yaml")


@dataclass(frozen=True)
class ProjectFlags:
    """`--project NAME|ID`, or the manifest (`-f`) naming the project; `-e` for the environment."""

    project: str | None
    manifest: Path
    environment: str | None

    def load(self, *, required: bool = False) -> Prepared | None:
        """The loaded manifest when it is needed (`required`) or no `--project` was given.

        Exits 1 with the diagnostics when it does not load, and with a hint when it is missing.
        """
        if self.project is not None and not required:
            return None
        if not self.manifest.is_file():
            if self.project is None:
                fail(
                    f"no manifest at {self.manifest}",
                    "Pass --project NAME (or -f path/to/opendeploy.yaml).",
                )
            fail(f"no manifest at {self.manifest}", "Pass -f path/to/opendeploy.yaml.")
        from opendeploy_plan.cli.views.common import show_diagnostics
        from opendeploy_plan.engine.prepare import load

        prepared = load(self.manifest, self.environment, check_sources=False)  # names only
        if not prepared.load.ok:
            show_diagnostics(prepared.diagnostics)
            sys.exit(1)
        return prepared

    def environment_for(self, prepared: Prepared | None) -> str | None:
        """`-e`, else the manifest's (with its `OD_ENVIRONMENT` override), else `OD_ENVIRONMENT`."""
        if self.environment:
            return self.environment
        if prepared is not None:
            return prepared.load.environment
        return os.environ.get("OD_ENVIRONMENT") or None

    def manifest_services(self, prepared: Prepared | None) -> tuple[str, ...]:
        """The manifest's service names (empty without a manifest): with one, a day-two
        command needs no SERVICE argument."""
        if prepared is None or prepared.load.manifest is None:
            return ()
        return tuple(prepared.load.manifest.services)

    async def find_service(
        self, client: GatewayClient, project: Project, name: str | None, prepared: Prepared | None
    ) -> Service:
        """The service `name`, or when None the manifest's (else the project's) only one."""
        from opendeploy_plan.ops.live import find_service

        return await find_service(
            client,
            project,
            name,
            self.environment_for(prepared),
            manifest_services=self.manifest_services(prepared),
        )

    async def find(self, client: GatewayClient, prepared: Prepared | None) -> Project:
        """The project: by `--project`, else by the manifest's project name."""
        from opendeploy_plan.ops.live import OpsError, find_project

        if self.project is not None:
            return await find_project(client, self.project)
        assert prepared is not None and prepared.load.manifest is not None
        name = prepared.load.manifest.project.name
        project = await client.find_project_by_name(name)
        if project is None:
            raise OpsError(
                f"project {name} (from {self.manifest}) does not exist on the gateway",
                hint="Create it with odplan apply, or pass --project.",
            )
        return project


def service_argument(func: F) -> F:
    """`[SERVICE]`: optional when the manifest (or the project) has one service."""
    return click.argument("service_name", metavar="[SERVICE]", required=False)(func)


def project_options(func: F) -> F:
    """`--project`, `-f/--file` and `-e/--environment` → `project_flags: ProjectFlags`."""
    return _project_options(func, ("-f", "--file"))


def project_options_long_file(func: F) -> F:
    """Like `project_options`, with `--file` only: for `logs`, where `-f` means --follow (the
    habit of tail, docker and kubectl)."""
    return _project_options(func, ("--file",))


def _project_options(func: F, file_flags: tuple[str, ...]) -> F:
    @click.option(
        "--project",
        "project",
        metavar="NAME|ID",
        default=None,
        help="The project (default: the one named in the manifest).",
    )
    @click.option(
        *file_flags,
        "manifest",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_MANIFEST,
        show_default=True,
        help="The manifest naming the project.",
    )
    @click.option(
        "-e",
        "--environment",
        type=click.Choice(["production", "staging"]),
        default=None,
        help="Environment (default: the manifest's, or $OD_ENVIRONMENT).",
    )
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        project: str | None,
        manifest: Path,
        environment: str | None,
        **kwargs: Any,
    ) -> Any:
        flags = ProjectFlags(project, manifest, environment)
        return func(*args, project_flags=flags, **kwargs)

    return wrapper  # type: ignore[return-value]


def run(coroutine: Coroutine[Any, Any, T], *, interrupted: str = "") -> T:
    """Run the command's async part: gateway errors end as "error/hint" and exit 1; Ctrl-C ends
    with exit 130 and no traceback (`interrupted` says what is left running, if anything)."""
    try:
        with gateway_errors():
            return asyncio.run(coroutine)
    except KeyboardInterrupt:
        click.echo("", err=True)
        click.echo(f"interrupted{': ' + interrupted if interrupted else ''}", err=True)
        sys.exit(EXIT_INTERRUPTED)
