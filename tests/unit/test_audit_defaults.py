"""Defaults a user relies on, as documented (mutation audit, issue 19): `--parallelism` 10
(docs/apply.md), and an auto domain awaited up to 30 s after the first deployment succeeds
(domain.md: the row appears within 30 s)."""

from __future__ import annotations

import click
from click.testing import CliRunner

from opendeploy_plan.apply.handlers import domain
from opendeploy_plan.cli import main


def test_apply_runs_at_most_ten_actions_at_once_by_default() -> None:
    with click.Context(main) as ctx:
        command = main.get_command(ctx, "apply")  # type: ignore[attr-defined]
    assert command is not None
    option = next(p for p in command.params if p.name == "parallelism")
    assert option.default == 10
    shown = CliRunner().invoke(main, ["apply", "--help"]).output
    assert "default:" in shown and "10;" in shown.replace("\n", " ").split("--parallelism")[1]


def test_the_auto_domain_is_awaited_up_to_thirty_seconds() -> None:
    assert domain.ROW_TIMEOUT == 30.0
