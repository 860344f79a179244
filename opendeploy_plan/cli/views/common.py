"""What every command view shares: diagnostics, warnings and notes, always on stderr (stdout
may be piped as JSON)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

import click

from opendeploy_plan.diagnostics import Diagnostic

__all__ = ["show_diagnostics", "show_note", "show_warning"]


def show_diagnostics(
    diagnostics: Iterable[Diagnostic], *, skip: Collection[Diagnostic] = ()
) -> None:
    """Every diagnostic but `skip`, errors first, then warnings; each in its colour."""
    shown = [d for d in diagnostics if d not in skip]
    for diagnostic in sorted(shown, key=lambda d: (not d.is_error, d)):
        color = "red" if diagnostic.is_error else "yellow"
        click.secho(diagnostic.format_long(), fg=color, err=True)


def show_warning(message: str) -> None:
    """`warning: …` in yellow."""
    click.secho(f"warning: {message}", fg="yellow", err=True)


def show_note(message: str) -> None:
    """A plain line of information (progress, what was saved, what to do next)."""
    click.echo(message, err=True)
