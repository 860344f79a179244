"""One project, both environments: `odplan apply -e staging` then `-e production` (real child
processes, real-clock gateway) leave two independent copies, and each plan sees only its own
environment (never replacing the other one's services or databases)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

from tests.e2e.apply_support import Odplan as ApplyOdplan
from tests.e2e.apply_support import describe, real_gateway, write_shop


def _both_environments(tmp_path: Path, *, subdomain: bool) -> None:
    home = tmp_path / "home"
    home.mkdir()
    manifest = write_shop(tmp_path / "app")
    if not subdomain:
        text = manifest.read_text()
        manifest.write_text("\n".join(x for x in text.splitlines() if "subdomain:" not in x))
    with real_gateway() as gateway:
        odplan = ApplyOdplan(gateway, home, manifest)

        staging = odplan.apply("-e", "staging")
        assert staging.returncode == 0, describe(staging)
        production_plan = odplan.plan("-e", "production", "--detailed-exitcode", "--json")
        assert production_plan.returncode == 2, describe(production_plan)
        kinds = {a["address"]: a["action"] for a in json.loads(production_plan.stdout)["actions"]}
        assert kinds["service.api"] == kinds["dependency.db"] == "create"
        assert not {"replace", "delete"} & set(kinds.values())
        production = odplan.apply("-e", "production")
        assert production.returncode == 0, describe(production)

        for environment in ("staging", "production"):
            again = odplan.plan("-e", environment, "--detailed-exitcode")
            assert again.returncode == 0, describe(again)
            assert "No changes." in again.stdout

        async def rows() -> Counter[str]:
            async with odplan.client() as client:
                project = await client.find_project_by_name("shop")
                assert project is not None
                return Counter(s.environment for s in await client.list_services(project.id))

        assert asyncio.run(rows()) == {"staging": 3, "production": 3}


def test_staging_and_production_live_side_by_side(tmp_path: Path) -> None:
    _both_environments(tmp_path, subdomain=False)


def test_the_same_subdomain_in_both_environments(tmp_path: Path) -> None:
    _both_environments(tmp_path, subdomain=True)
