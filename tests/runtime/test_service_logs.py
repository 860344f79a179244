"""`odplan logs SERVICE` (runtime logs, without `--build`) over real HTTP: on the local runtime
it shows what the serving release's process printed (secrets masked), after a redeploy the new
release's output; on the simulate runtime the simulation's "listening" line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import FAST_PHASES, running_gateway
from tests.e2e.apply_support import Odplan

from .conftest import FIXTURES, reachable_tmp, wait_for
from .test_gateway_local import local_gateway, through_router

SECRET = "canary-5e0c-printed-by-the-app"

MANIFEST = """\
version: 1
project:
  name: local-logs
services:
  hello:
    type: web
    source: hello
    port: 8000
    subdomain: hello-logs
    env:
      APP_TOKEN: ${{ secrets.APP_TOKEN }}
"""


def make_project(work: Path) -> Path:
    app = work / "app"
    shutil.copytree(FIXTURES / "py_app", app / "hello")
    main = app / "hello" / "app.py"
    # The app prints its secret once: the runtime must mask it before anyone reads the log.
    main.write_text(
        main.read_text().replace(
            'print("py_app listening on"',
            'print("token is", os.environ.get("APP_TOKEN"), flush=True)\n'
            '    print("py_app listening on"',
        )
    )
    (app / "opendeploy.yaml").write_text(MANIFEST)
    return app / "opendeploy.yaml"


def tool_for(gateway: object, work: Path, manifest: Path) -> Odplan:
    home = work / "home"
    home.mkdir(exist_ok=True)
    tool = Odplan(gateway, home, manifest)  # type: ignore[arg-type]
    tool.extra_env["APP_TOKEN"] = SECRET
    return tool


@pytest.mark.slow
def test_runtime_logs_are_the_serving_process_output_on_the_local_runtime() -> None:
    work = reachable_tmp("odplan-logs-")
    try:
        manifest = make_project(work)
        with local_gateway(work / "runtime") as gateway:
            tool = tool_for(gateway, work, manifest)
            applied = tool.apply()
            assert applied.returncode == 0, applied.stdout + applied.stderr
            assert wait_for(
                lambda: through_router(gateway, "hello-logs.localhost").status_code == 200,
                timeout=15,
            )
            serving = gateway.emulator.runner.runtime.deployments()[-1]
            logs = tool.run("logs", "hello")
            assert logs.returncode == 0, logs.stdout + logs.stderr
            # The process's own line, with the port the runtime gave it (not the manifest's).
            assert f"py_app listening on {serving.port}" in logs.stdout
            assert "token is ********" in logs.stdout
            assert SECRET not in logs.stdout + logs.stderr
            assert "listening on 0.0.0.0:8000" not in logs.stdout  # no simulated line
            assert "Starting:" not in logs.stdout  # the deploy phase is `--build`'s

            app_py = manifest.parent / "hello" / "app.py"
            app_py.write_text(app_py.read_text().replace("py_app listening", "v2 listening"))
            again = tool.apply()
            assert again.returncode == 0, again.stdout + again.stderr
            logs = tool.run("logs", "hello")
            assert "v2 listening on" in logs.stdout
            assert "py_app listening on" not in logs.stdout  # the old release is not serving
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_runtime_logs_stay_the_simulated_line_on_the_simulate_runtime(tmp_path: Path) -> None:
    manifest = make_project(tmp_path)
    with running_gateway(**FAST_PHASES, runtime="simulate") as gateway:
        tool = tool_for(gateway, tmp_path, manifest)
        applied = tool.apply()
        assert applied.returncode == 0, applied.stdout + applied.stderr
        logs = tool.run("logs", "hello")
        assert logs.returncode == 0, logs.stdout + logs.stderr
        assert "hello listening on 0.0.0.0:8000" in logs.stdout
        assert "py_app listening" not in logs.stdout
