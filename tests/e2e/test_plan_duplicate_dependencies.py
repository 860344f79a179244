"""Two live databases with one name (the platform allows it; two applies at once can do it):
plan says which one odplan manages and leaves the other alone, instead of picking silently."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.e2e.apply_support import describe, example_odplan, real_gateway


def test_a_second_database_with_the_same_name_is_reported_not_adopted(tmp_path: Path) -> None:
    with real_gateway() as gateway:
        odplan = example_odplan(gateway, tmp_path, "django")
        applied = odplan.apply()
        assert applied.returncode == 0, describe(applied)

        async def add_twin() -> tuple[str, str]:
            async with odplan.client() as client:
                project = await client.find_project_by_name("django-polls")
                assert project is not None
                rows = (await client.dependency_status(project.id)).dependencies
                first = next(d.id for d in rows if d.display_name == "db")
                twin = await client.create_dependency(
                    project.id, "postgres", environment="production", display_name="db"
                )
                return first, twin.id

        first, twin = asyncio.run(add_twin())

        planned = odplan.plan("--detailed-exitcode")
        assert planned.returncode == 0, describe(planned)  # nothing to change: the first is ours
        shown = planned.stdout + planned.stderr
        warning = f"2 live databases are named 'db' in production; odplan manages {first}"
        assert shown.count(warning) == 1, shown
        assert f"leaves {twin} alone" in shown


def test_prune_deletes_every_unmanaged_database_of_a_name(tmp_path: Path) -> None:
    with real_gateway() as gateway:
        odplan = example_odplan(gateway, tmp_path, "django")
        assert odplan.apply().returncode == 0

        async def add_legacy_pair() -> list[str]:
            async with odplan.client() as client:
                project = await client.find_project_by_name("django-polls")
                assert project is not None
                return [
                    (
                        await client.create_dependency(
                            project.id, "postgres", environment="production", display_name="legacy"
                        )
                    ).id
                    for _ in range(2)
                ]

        ids = asyncio.run(add_legacy_pair())
        planned = odplan.plan()
        assert f"2 live databases are named 'legacy' in production ({', '.join(ids)})" in (
            planned.stdout
        ), describe(planned)
        assert "none in the manifest" in planned.stdout

        pruned = odplan.apply("--prune", "--allow-data-loss")
        assert pruned.returncode == 0, describe(pruned)
        after = odplan.plan("--detailed-exitcode")
        assert after.returncode == 0, describe(after)
        assert "legacy" not in after.stdout
