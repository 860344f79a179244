"""Plan says no where apply would (issue 16 item 5), through the real CLI over real HTTP: no
credential, the guest caps (one project, named; replicas and size), a subdomain already taken,
and a gateway without the check-subdomain route (tolerated, noted)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import register_guest
from tests.e2e.apply_support import Odplan, RealGateway, describe, real_gateway

SOLO = """\
version: 1
project:
  name: {project}
services:
  web:
    port: 8000
{extra}"""


@pytest.fixture
def gateway() -> Iterator[RealGateway]:
    with real_gateway(auto_domain_delay_seconds=0.0) as running:
        yield running


def solo(
    gateway: RealGateway, tmp_path: Path, project: str, extra: str = "", token: str | None = None
) -> Odplan:
    app = tmp_path / project
    app.mkdir()
    (app / "main.py").write_text("print('hi')\n")
    (app / "requirements.txt").write_text("fastapi\n")
    (app / "opendeploy.yaml").write_text(SOLO.format(project=project, extra=extra))
    home = tmp_path / f"home-{project}"
    home.mkdir()
    odplan = Odplan(gateway, home, app / "opendeploy.yaml")
    if token is not None:
        odplan.extra_env["OD_API_KEY"] = token
    return odplan


def guest_token(gateway: RealGateway) -> str:
    return register_guest(gateway.base_url)


def test_no_credential_says_how_to_get_one(gateway: RealGateway, tmp_path: Path) -> None:
    odplan = solo(gateway, tmp_path, "nocred")
    env = {k: v for k, v in odplan.env.items() if k != "OD_API_KEY"}

    for command in ("plan", "status"):
        result = subprocess.run(
            odplan.argv(command),
            env=env,
            capture_output=True,
            text=True,
            cwd=odplan.manifest.parent,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert result.returncode == 1, describe(result)
        assert "no credential for" in result.stderr
        assert "odplan login --guest" in result.stderr
        assert "offers to create a guest credential" in result.stderr
        assert "rejected the API key" not in result.stderr
        assert "Traceback" not in result.stderr


def test_guest_caps_are_plan_errors_with_the_fix(gateway: RealGateway, tmp_path: Path) -> None:
    extra = "    replicas: 3\n    resources:\n      memory: {request: 512Mi, limit: 2Gi}\n"
    odplan = solo(gateway, tmp_path, "big", extra, token=guest_token(gateway))

    planned = odplan.plan()
    applied = odplan.apply()

    assert planned.returncode == 1, describe(planned)
    text = planned.stdout + planned.stderr
    assert "3 replicas exceed the guest cap of 1" in text
    assert "Set replicas: 1" in text
    assert "memory limit 2Gi exceeds the guest cap of 1Gi" in text
    assert applied.returncode == 1
    assert "Nothing was applied" in applied.stderr + applied.stdout
    assert odplan.census("big").projects == 0


def test_the_guest_project_cap_names_the_existing_project(
    gateway: RealGateway, tmp_path: Path
) -> None:
    token = guest_token(gateway)
    first = solo(gateway, tmp_path, "first-app", token=token)
    assert first.apply().returncode == 0
    second = solo(gateway, tmp_path, "second-app", token=token)

    planned = second.plan()

    assert planned.returncode == 1, describe(planned)
    text = planned.stdout + planned.stderr
    assert "this guest credential already holds project 'first-app'" in text
    assert "project.name: first-app" in text
    assert "odplan destroy --allow-data-loss" in text


def test_a_taken_subdomain_is_a_plan_error(gateway: RealGateway, tmp_path: Path) -> None:
    owner = solo(gateway, tmp_path, "owner", "    subdomain: popular-name\n")
    assert owner.apply().returncode == 0
    other = solo(gateway, tmp_path, "other", "    subdomain: popular-name\n")

    planned = other.plan()

    assert planned.returncode == 1, describe(planned)
    text = planned.stdout + planned.stderr
    assert "subdomain 'popular-name' is already taken" in text
    assert "Choose another `subdomain:` for service web" in text
    # The owner's own plan does not trip over the subdomain it holds.
    assert owner.plan("--detailed-exitcode").returncode == 0


@contextmanager
def gateway_without_check_route() -> Iterator[RealGateway]:
    """The local gateway behind a front that answers 404 on check-subdomain, as a gin router
    without the route would."""
    from opendeploy_plan.emulator import EmulatorConfig, create_app
    from opendeploy_plan.emulator.server import serve_in_thread
    from tests.conftest import FAST_PHASES, LiveGateway

    app = create_app(EmulatorConfig(db_path=":memory:", **FAST_PHASES))
    emulator = app.state.emulator

    async def front(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and "/check-subdomain/" in scope["path"]:
            headers = [(b"content-type", b"text/plain")]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": b"404 page not found"})
            return
        await app(scope, receive, send)

    with serve_in_thread(front, wait_for_stop=False) as root:
        emulator.config.public_url = f"{root}/api"
        yield LiveGateway(
            root_url=root,
            base_url=f"{root}/api",
            dashboard_token=emulator.mint_dashboard_token(),
            emulator=emulator,
            clock=emulator.clock,
            app=app,
        )


def test_a_gateway_without_the_check_route_is_tolerated(tmp_path: Path) -> None:
    with gateway_without_check_route() as gateway:
        odplan = solo(gateway, tmp_path, "unchecked", "    subdomain: fresh-name\n")

        planned = odplan.plan("--detailed-exitcode")

    assert planned.returncode == 2, describe(planned)
    assert "could not check whether subdomain(s) fresh-name are free" in planned.stdout
    assert "apply will find out" in planned.stdout
