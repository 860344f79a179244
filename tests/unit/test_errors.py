"""odplan's own errors share one root, and a command ends on any of them with error/hint/exit 1."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from opendeploy_plan.cli.options import gateway_errors
from opendeploy_plan.engine.saved import PlanFileUnusable, StalePlan
from opendeploy_plan.errors import OdplanError
from opendeploy_plan.ops.adopt import AdoptError
from opendeploy_plan.ops.deployments import NothingToCancel
from opendeploy_plan.ops.live import OpsError


@pytest.mark.parametrize(
    "error", [StalePlan, PlanFileUnusable, AdoptError, OpsError, NothingToCancel]
)
def test_client_errors_share_one_root(error: type[Exception]) -> None:
    assert issubclass(error, OdplanError)


def test_errors_keep_the_builtin_they_resemble() -> None:
    assert issubclass(AdoptError, ValueError) and issubclass(PlanFileUnusable, ValueError)


def test_a_command_ends_on_an_odplan_error_with_its_message_and_hint() -> None:
    @click.command()
    def stale() -> None:
        with gateway_errors():
            raise StalePlan("Saved plan is stale: x changed", "Run `odplan plan --out FILE` again.")

    result = CliRunner().invoke(stale, [])
    assert result.exit_code == 1
    assert "error: Saved plan is stale: x changed" in result.output
    assert "hint: Run `odplan plan --out FILE` again." in result.output
    assert "Traceback" not in result.output


def test_a_subclass_that_skips_the_root_init_still_reads_well() -> None:
    class Refusal(OdplanError):
        def __init__(self, what: str) -> None:
            Exception.__init__(self, f"refused: {what}")

    error = Refusal("miner")
    assert error.user_message() == "refused: miner" and error.hint == ""
