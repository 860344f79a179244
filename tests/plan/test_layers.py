"""The planner is pure core: it never imports a view, the CLI or the gateway client."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_planner_pulls_in_no_view_cli_or_network_code() -> None:
    code = (
        "import sys, opendeploy_plan.plan, opendeploy_plan.state.model\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('rich', 'click', 'httpx')"
        " or m.startswith(('opendeploy_plan.render', 'opendeploy_plan.cli',"
        " 'opendeploy_plan.gateway', 'opendeploy_plan.apply'))]\n"
        "print(','.join(sorted(bad)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
