"""The CI recipes in examples/ci/ are valid workflows, and their odplan steps work as written.

Each workflow's `run:` scripts that call odplan are executed verbatim with bash against a real
local gateway (uvicorn on 127.0.0.1), with `OD_API_KEY`/`OD_GATEWAY` as the workflows get them
from repository secrets, and `GITHUB_OUTPUT` pointing at a file, as on a runner. Steps that only
install Python or odplan are skipped: the test runs the odplan under test.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from opendeploy_plan.gateway import GatewayClient
from tests.e2e.apply_support import CANARY, SECRET_NAMES, copy_example, real_gateway

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "examples" / "ci"


def workflow(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((RECIPES / name).read_text())
    assert isinstance(data, dict) and data["jobs"], name
    return data


def odplan_scripts(name: str) -> list[str]:
    """The `run:` scripts of a workflow that call odplan, in order."""
    steps = [step for job in workflow(name)["jobs"].values() for step in job["steps"]]
    return [step["run"] for step in steps if "run" in step and "odplan " in step["run"]]


def run_script(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_every_recipe_is_a_valid_workflow_using_the_api_key_secret() -> None:
    names = sorted(p.name for p in RECIPES.glob("*.yml"))
    assert names == ["deploy-on-main.yml", "drift-check.yml", "plan-on-pull-request.yml"]
    for name in names:
        data = workflow(name)
        assert True in data or "on" in data  # PyYAML reads the `on:` key as True
        for job in data["jobs"].values():
            assert job["env"]["OD_API_KEY"] == "${{ secrets.OD_API_KEY }}"
        assert odplan_scripts(name), name


def test_the_pre_commit_hook_runs_odplan_validate() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["odplan-validate"]
    assert hooks[0]["entry"] == "odplan validate"


def test_the_recipes_odplan_steps_against_the_local_gateway(tmp_path: Path) -> None:
    with real_gateway() as gateway:
        app = copy_example("fastapi-postgres-redis", tmp_path / "repo").parent
        home = tmp_path / "home"
        home.mkdir()
        outputs = tmp_path / "github_output"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OD_", "OPDEPLOY_"))}
        env.update(
            {
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
                "HOME": str(home),
                "OPDEPLOY_LOG_DIR": str(home / "logs"),
                "OD_API_KEY": gateway.dashboard_token,  # what `secrets.OD_API_KEY` provides
                "OD_GATEWAY": gateway.base_url,
                "GITHUB_OUTPUT": str(outputs),
                "NO_COLOR": "1",
                **{name: CANARY for name in SECRET_NAMES},
            }
        )

        def outputs_now() -> str:
            return outputs.read_text() if outputs.exists() else ""

        # A pull request before anything is deployed: changes (exit 2) do not fail the job.
        (pr_script,) = odplan_scripts("plan-on-pull-request.yml")[-1:]
        validate = run_script(odplan_scripts("plan-on-pull-request.yml")[0], app, env)
        assert validate.returncode == 0, validate.stderr
        first = run_script(pr_script, app, env)
        assert first.returncode == 0, first.stderr
        assert "exitcode=2" in outputs_now()
        comment = (app / "plan.md").read_text()
        assert "<details>" in comment and "to create" in comment

        # Deploy on main.
        for script in odplan_scripts("deploy-on-main.yml"):
            deployed = run_script(script, app, env)
            assert deployed.returncode == 0, deployed.stderr
        assert "https://fastapi-links.opendeploy.run" in deployed.stdout

        # The scheduled drift check passes while live state matches ...
        (drift_script,) = odplan_scripts("drift-check.yml")
        assert run_script(drift_script, app, env).returncode == 0

        # ... and fails (exit 2) once someone changes the service outside odplan.
        async def resize() -> None:
            async with GatewayClient(gateway.base_url, gateway.dashboard_token) as client:
                project = await client.find_project_by_name("fastapi-shortener")
                assert project is not None
                (service,) = await client.list_services(project.id)
                await client.update_service(service.id, {"cpu_limit": "750m"})

        asyncio.run(resize())
        drifted = run_script(drift_script, app, env)
        assert drifted.returncode == 2, drifted.stdout + drifted.stderr
        assert "cpu_limit" in drifted.stdout

        # The pull-request job reports the drift as changes without failing.
        again = run_script(pr_script, app, env)
        assert again.returncode == 0, again.stderr
        assert outputs_now().rstrip().endswith("exitcode=2")

        for text in (first.stdout, first.stderr, deployed.stdout, deployed.stderr, comment):
            assert CANARY not in text
