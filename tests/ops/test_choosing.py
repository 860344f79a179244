"""Which project, environment and service a day-two command means when the user did not say
(`status`, `logs`, `redeploy`, `rollback`, `cancel`): the only one, else an error that names
the choices and the option to pass. The gateway is the local emulator, in-process (httpx's
ASGI transport); the environment and service choices are pure."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from opendeploy_plan.emulator import EmulatorConfig, create_app
from opendeploy_plan.gateway import GatewayClient, Project, Service
from opendeploy_plan.ops.live import (
    OpsError,
    choose_environment,
    find_project,
    find_service,
    only_project,
    only_service_name,
)

T = TypeVar("T")
# The gateway that answers only what the documents promise, as well as the default one.
PROFILES = pytest.mark.parametrize("profile", ["default", "documented"])


def svc(name: str, environment: str = "production") -> Service:
    return Service.model_validate(
        {"id": f"id-{name}-{environment}", "name": name, "environment": environment}
    )


@pytest.mark.parametrize(
    ("environments", "requested", "chosen"),
    [
        (["staging", "staging", "production"], None, "staging"),
        (["staging", "production"], None, "production"),  # a tie: production
        (["staging", "", "preview"], None, "staging"),  # unknown and unset ones do not count
        ([], None, "production"),
        (["", "preview"], None, "production"),
        (["production", "production"], "staging", "staging"),  # asked: asked
    ],
)
def test_the_environment_most_services_live_in(
    environments: list[str], requested: str | None, chosen: str
) -> None:
    services = [svc(f"s{i}", env) for i, env in enumerate(environments)]
    assert choose_environment(services, requested) == chosen


def test_the_manifests_only_service_wins_over_the_live_ones() -> None:
    live = [svc("web"), svc("worker")]
    assert only_service_name(live, None, ["worker"]) == "worker"
    assert only_service_name([svc("web")], None, []) == "web"
    # One live in staging, an unset environment counts for every environment.
    assert only_service_name([svc("web"), svc("jobs", "staging")], "staging", []) == "jobs"
    assert only_service_name([svc("web"), svc("jobs", "")], "staging", []) == "jobs"


def test_several_services_name_the_choices() -> None:
    with pytest.raises(OpsError) as several:
        only_service_name([svc("web"), svc("api")], None, [])
    assert several.value.message == "more than one service; say which"
    assert several.value.hint == "Name one of: api, web."
    with pytest.raises(OpsError) as from_manifest:
        only_service_name([svc("web")], None, ["web", "jobs"])
    assert from_manifest.value.hint == "Name one of: jobs, web."
    with pytest.raises(OpsError) as none:
        only_service_name([svc("web")], "staging", [])
    assert none.value.message == "no service to act on in staging"
    assert none.value.hint == "Deploy one first (odplan apply)."
    with pytest.raises(OpsError) as nothing:
        only_service_name([], None, [])
    assert nothing.value.message == "no service to act on"


def _on_emulator(go: Callable[[GatewayClient], Awaitable[T]], profile: str) -> T:
    app = create_app(EmulatorConfig(db_path=":memory:", seed=3, profile=profile))
    token = app.state.emulator.mint_dashboard_token()

    async def run() -> T:
        transport = httpx.ASGITransport(app=app)
        async with GatewayClient("http://gateway/api", token, transport=transport) as client:
            return await go(client)

    return asyncio.run(run())


async def _projects(client: GatewayClient, *names: str) -> list[Project]:
    region = (await client.active_region()).id
    return [await client.create_project(n, region_id=region) for n in names]


@PROFILES
def test_the_only_project_or_an_error_naming_them(profile: str) -> None:
    async def go(client: GatewayClient) -> list[Any]:
        outcomes: list[Any] = []
        for names in ((), ("shop",), ("blog",)):
            await _projects(client, *names)
            try:
                outcomes.append((await only_project(client)).name)
            except OpsError as exc:
                outcomes.append((exc.message, exc.hint))
        return outcomes

    assert _on_emulator(go, profile) == [
        ("this credential sees no project", "Deploy one first (odplan apply)."),
        "shop",
        ("more than one project; say which", "Pass --project NAME (blog, shop)."),
    ]


@PROFILES
def test_a_project_by_id_or_name_else_the_ones_there_are(profile: str) -> None:
    async def go(client: GatewayClient) -> list[Any]:
        shop, _blog = await _projects(client, "shop", "blog")
        by_id = await find_project(client, shop.id)
        by_name = await find_project(client, "blog")
        try:
            await find_project(client, "nope")
        except OpsError as exc:
            return [by_id.name, by_name.name, exc.message, exc.hint]
        return [by_id.name, by_name.name]

    assert _on_emulator(go, profile) == [
        "shop",
        "blog",
        "no project called 'nope'",
        "Projects you can see: blog, shop.",
    ]


@PROFILES
def test_a_service_by_name_and_environment(profile: str) -> None:
    async def go(client: GatewayClient) -> list[Any]:
        (shop,) = await _projects(client, "shop")
        for name, environment in (("web", "production"), ("web", "staging"), ("api", "staging")):
            await client.create_service(
                shop.id, {"name": name, "type": "web", "environment": environment, "port": 8080}
            )
        outcomes: list[Any] = []
        asked: list[tuple[str, str | None]] = [
            ("web", "staging"),
            ("api", None),
            ("web", None),
            ("db", "staging"),
        ]
        for name, wanted in asked:
            try:
                found = await find_service(client, shop, name, wanted)
                outcomes.append((found.name, found.environment))
            except OpsError as exc:
                outcomes.append((exc.message, exc.hint))
        return outcomes

    assert _on_emulator(go, profile) == [
        ("web", "staging"),
        ("api", "staging"),
        ("service 'web' exists in more than one environment", "Pass -e production or -e staging."),
        ("project shop has no service 'db' in staging", "Services: api, web."),
    ]
