"""The `odplan validate` views: every diagnostic as `FILE:LINE:COL: …` on stderr and a one-line
verdict, or with `--json` the diagnostics as a JSON list on stdout."""

from __future__ import annotations

import json
from collections.abc import Sized
from typing import Protocol

import click

from opendeploy_plan.manifest import LoadResult

__all__ = ["ValidateHuman", "ValidateJSON", "ValidateView", "validate_view"]


class ValidateView(Protocol):
    def result(self, file: str, result: LoadResult) -> None: ...


def _count(items: Sized, singular: str, plural: str | None = None) -> str:
    number = len(items)
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


class ValidateHuman:
    def result(self, file: str, result: LoadResult) -> None:
        for diagnostic in result.diagnostics:
            click.echo(diagnostic.format_long(), err=True)
        warnings = f", {_count(result.warnings, 'warning')}" if result.warnings else ""
        if result.manifest is not None:
            manifest = result.manifest
            click.echo(
                f"{file}: valid for {result.environment} "
                f"(project {manifest.project.name}, {_count(manifest.services, 'service')}, "
                f"{_count(manifest.dependencies, 'dependency', 'dependencies')}" + warnings + ")"
            )
        else:
            click.echo(f"{file}: {_count(result.errors, 'error')}" + warnings, err=True)


class ValidateJSON:
    def result(self, file: str, result: LoadResult) -> None:
        click.echo(json.dumps([d.to_json() for d in result.diagnostics], indent=2))


def validate_view(*, as_json: bool) -> ValidateView:
    return ValidateJSON() if as_json else ValidateHuman()
