"""Every example against the emulator's documented profile (issue 14, items 1, 2 and 4), over
real HTTP: dependency rows are `{id, status}` only, services come back without `dependencies`
and `build_variables`, projects without `original_file_path`. Every example applies, plans
empty twice, and a second apply keeps `DATABASE_URL` and every injected key without creating a
second dependency. (An upload that expires before binding: test_apply_source_bind.py, both
profiles.)"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from opendeploy_plan.manifest import load_manifest
from tests.e2e.apply_support import (
    Odplan,
    RealGateway,
    copy_example,
    describe,
    example_odplan,
    real_gateway,
    uploads,
)

EXAMPLES = ("api-worker", "django", "fastapi-postgres-redis", "nextjs-postgres", "static-site")


@pytest.fixture
def gateway() -> Iterator[RealGateway]:
    with real_gateway(profile="documented", auto_domain_delay_seconds=0.0) as running:
        yield running


def live_rows(odplan: Odplan, project: str) -> tuple[int, dict[str, dict[str, str]]]:
    """(dependency rows, each service's live env) as the documented gateway answers them."""

    async def go() -> tuple[int, dict[str, dict[str, str]]]:
        async with odplan.client() as client:
            found = await client.find_project_by_name(project)
            assert found is not None
            status = await client.dependency_status(found.id)
            envs = {}
            for service in await client.list_services(found.id):
                envs[service.name] = dict((await client.get_env(found.id, service.id)).variables)
            return len(status.dependencies), envs

    return asyncio.run(go())


@pytest.mark.parametrize("example", EXAMPLES)
def test_an_example_applies_plans_clean_and_keeps_injected_env(
    example: str, gateway: RealGateway, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    odplan = Odplan(gateway, home, copy_example(example, tmp_path / "app"))
    manifest = load_manifest(odplan.manifest).manifest
    assert manifest is not None
    wanted = len(manifest.dependencies or {})

    applied = odplan.apply()
    assert applied.returncode == 0, describe(applied)
    for refresh in (1, 2):
        planned = odplan.plan("--detailed-exitcode")
        assert planned.returncode == 0, f"refresh {refresh}: {describe(planned)}"
        assert "No changes." in planned.stdout
    dependencies, first_env = live_rows(odplan, manifest.project.name)
    assert dependencies == wanted

    # An env edit and a source change force an env replace, an upload, a bind and a redeploy:
    # the injected keys must survive them.
    document = yaml.safe_load(odplan.manifest.read_text())
    for service in document["services"].values():
        service.setdefault("env", {})["EDITED"] = "1"
    odplan.manifest.write_text(yaml.safe_dump(document, sort_keys=False))
    (odplan.manifest.parent / "edited.txt").write_text("a new source digest\n")
    again = odplan.apply()
    assert again.returncode == 0, describe(again)
    dependencies, second_env = live_rows(odplan, manifest.project.name)
    assert dependencies == wanted
    for service, env in first_env.items():
        assert set(env) <= set(second_env[service]), (service, set(env) - set(second_env[service]))
    if wanted and any(d.type == "postgres" for d in (manifest.dependencies or {}).values()):
        assert any("DATABASE_URL" in env for env in second_env.values())


def test_an_upload_that_never_binds_fails_clearly(gateway: RealGateway, tmp_path: Path) -> None:
    odplan = example_odplan(gateway, tmp_path, "static-site")
    assert odplan.apply().returncode == 0
    page = odplan.manifest.parent / "public" / "index.html"
    page.write_text(page.read_text() + "<!-- release 2 -->\n")
    gateway.emulator.config.upload_ttl_seconds = -1.0  # every upload is expired at bind time

    applied = odplan.apply()

    assert applied.returncode == 1, describe(applied)
    assert "did not bind the new upload, twice" in applied.stderr
    assert len(uploads(odplan)) == 3


def test_without_the_hint_file_one_database_is_adopted_by_elimination(
    gateway: RealGateway, tmp_path: Path
) -> None:
    """Item 1: `{id, status}` rows name no key; with one database left and one key wanted, the
    row is that key (no second postgres)."""
    odplan = example_odplan(gateway, tmp_path, "nextjs-postgres")
    assert odplan.apply().returncode == 0
    (odplan.manifest.parent / ".opendeploy" / "dependencies.json").unlink()

    planned = odplan.plan("--detailed-exitcode")

    assert planned.returncode == 0, describe(planned)
    assert live_rows(odplan, "nextjs-guestbook")[0] == 1


def test_without_the_hint_file_two_databases_stop_instead_of_duplicating(
    gateway: RealGateway, tmp_path: Path
) -> None:
    odplan = example_odplan(gateway, tmp_path, "fastapi-postgres-redis")
    assert odplan.apply().returncode == 0
    (odplan.manifest.parent / ".opendeploy" / "dependencies.json").unlink()

    planned = odplan.plan()
    applied = odplan.apply()

    for result in (planned, applied):
        assert result.returncode == 1, describe(result)
        assert "cannot tell which is which" in result.stderr + result.stdout, describe(result)
        assert "Traceback" not in result.stderr
    assert live_rows(odplan, "fastapi-shortener")[0] == 2
