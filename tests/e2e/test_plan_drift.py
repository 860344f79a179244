"""`odplan plan` against live state: no changes after an apply; drift made through the public
API (env edited, service resized, subdomain renamed) shows up with exit code 2; `--refresh-only`
lists the drift and plans nothing; refresh stays within its request budget."""

from __future__ import annotations

import json
from pathlib import Path

from opendeploy_plan.gateway import GatewayClient
from opendeploy_plan.source import build_archive
from tests.e2e.conftest import Odplan, addresses, apply_by_hand, assert_no_canary, live_ids


def test_after_apply_there_are_no_changes(applied: Odplan) -> None:
    result = applied.plan("--detailed-exitcode")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "No changes." in result.stdout
    assert_no_canary(result.stdout, result.stderr, home=applied.home)


def test_refresh_reads_at_most_3_plus_4_requests_per_service(applied: Odplan) -> None:
    applied.admin("DELETE", "/requests")

    result = applied.plan("--detailed-exitcode")

    assert result.exit_code == 0, result.stderr
    counts = applied.admin("GET", "/requests")
    services = 2
    assert counts["total"] <= 3 + 4 * services, counts
    writes = {route: n for route, n in counts["counts"].items() if not route.startswith("GET ")}
    assert writes == {}, "plan must never write"


def test_an_env_edit_in_the_dashboard_is_drift_with_exit_2(applied: Odplan) -> None:
    async def edit_env(client: GatewayClient) -> None:
        project_id, service_id = await live_ids(client, "shop", "api")
        live = dict((await client.get_env(project_id, service_id)).variables)
        live["LOG_LEVEL"] = "debug"
        live["ADDED_BY_HAND"] = "x"
        await client.replace_env(project_id, service_id, live)

    applied.run(edit_env)
    result = applied.plan("--detailed-exitcode", "--json")

    assert result.exit_code == 2, result.stderr
    document = json.loads(result.stdout)
    assert addresses(document) == {
        "service.api.env": "update",
        "service.api.deployment": "deploy",
    }
    env = next(a for a in document["actions"] if a["address"] == "service.api.env")
    changes = {c["path"]: c for c in env["changes"]}
    assert changes["env.LOG_LEVEL"]["before"] == {"sensitive": True}  # live values never shown
    assert changes["env.LOG_LEVEL"]["after"] == "info"
    assert changes["env.ADDED_BY_HAND"]["change"] == "remove"
    assert changes["env.ADDED_BY_HAND"]["before"] == {"sensitive": True}
    assert_no_canary(result.stdout, result.stderr)


def test_a_resized_service_is_updated_in_place_without_redeploy(applied: Odplan) -> None:
    async def resize(client: GatewayClient) -> None:
        _, service_id = await live_ids(client, "shop", "api")
        await client.update_service(service_id, {"cpu_limit": "1", "memory_limit": "1Gi"})

    applied.run(resize)
    result = applied.plan("--detailed-exitcode")

    assert result.exit_code == 2, result.stderr
    assert "~ service.api" in result.stdout
    assert 'cpu_limit = "1" -> "500m"' in " ".join(result.stdout.split())
    assert "service.api.deployment" not in result.stdout
    assert "Plan: 0 to create, 1 to update, 0 to destroy, 0 to deploy." in result.stdout


def test_a_renamed_subdomain_is_renamed_back_without_redeploy(applied: Odplan) -> None:
    async def rename(client: GatewayClient) -> None:
        _, service_id = await live_ids(client, "shop", "api")
        domains = await client.list_service_domains(
            service_id, environment="production", type="auto"
        )
        await client.rename_subdomain(domains[0].id, "shop-renamed-e2e")

    applied.run(rename)
    result = applied.plan("--detailed-exitcode", "--json")

    assert result.exit_code == 2, result.stderr
    document = json.loads(result.stdout)
    assert addresses(document) == {"service.api.domain": "rename_domain"}
    change = document["actions"][0]["changes"][0]
    assert change["before"] == "shop-renamed-e2e.opendeploy.run"
    assert change["after"] == "shop-api-e2e.opendeploy.run"


def test_refresh_only_lists_the_drift_and_plans_no_action(applied: Odplan) -> None:
    async def drift(client: GatewayClient) -> None:
        _, service_id = await live_ids(client, "shop", "worker")
        await client.update_service(service_id, {"replicas": 3})

    applied.run(drift)
    human = applied.plan("--refresh-only", "--detailed-exitcode")
    as_json = applied.plan("--refresh-only", "--detailed-exitcode", "--json")

    assert human.exit_code == 2, human.stderr
    assert "refresh only" in human.stdout
    assert "service.worker" in human.stdout
    assert "Drift: 1 difference" in human.stdout
    document = json.loads(as_json.stdout)
    assert as_json.exit_code == 2
    assert document["refresh_only"] is True
    assert document["actions"] == []
    assert addresses(document, "drift") == {"service.worker": "update"}


def test_refresh_only_without_drift_exits_0(applied: Odplan) -> None:
    result = applied.plan("--refresh-only", "--detailed-exitcode")

    assert result.exit_code == 0, result.stdout + result.stderr


def test_new_local_source_is_a_change_but_not_drift(applied: Odplan) -> None:
    (applied.manifest.parent / "worker" / "main.py").write_text("print('v2')\n")

    plan = applied.plan("--detailed-exitcode", "--json")
    refresh_only = applied.plan("--refresh-only", "--detailed-exitcode")

    assert plan.exit_code == 2, plan.stderr
    assert addresses(json.loads(plan.stdout)) == {
        "project.source": "bind_source",
        "service.worker.deployment": "deploy",
    }
    assert refresh_only.exit_code == 0, refresh_only.stdout


def test_the_other_environment_is_neither_replaced_nor_mixed_in(
    odplan: Odplan, tmp_path: Path
) -> None:
    odplan.run(
        lambda client: apply_by_hand(
            client,
            odplan.manifest,
            odplan.env,
            odplan.gateway.advance,
            work_dir=tmp_path,
            environment="staging",
        )
    )

    staging = odplan.plan("-e", "staging", "--detailed-exitcode")
    production = odplan.plan("-e", "production", "--detailed-exitcode", "--json")

    assert staging.exit_code == 0, staging.stdout + staging.stderr
    assert production.exit_code == 2, production.stderr
    planned = addresses(json.loads(production.stdout))
    assert planned["service.api"] == "create"
    assert planned["service.worker"] == "create"
    assert planned["dependency.db"] == "create"
    assert "replace" not in planned.values() and "delete" not in planned.values()


def _deploy_again(applied: Odplan, work_dir: Path, description: str) -> None:
    """A new deployment of `api` made outside odplan (the skill or the dashboard)."""

    async def deploy(client: GatewayClient) -> None:
        project_id, service_id = await live_ids(client, "shop", "api")
        region = await client.active_region()
        archive = build_archive(applied.manifest.parent, work_dir / "again.zip", {"api": "api"})
        upload = await client.upload_only(archive.path, project_name="shop", region_id=region.id)
        await client.create_deployment(
            project_id,
            service_id,
            environment="production",
            temp_file_path=upload.temp_file_path,
            description=description,
        )

    applied.run(deploy)


def test_a_deployment_in_flight_is_waited_for(applied: Odplan, tmp_path: Path) -> None:
    _deploy_again(applied, tmp_path, "deployed from the dashboard")

    result = applied.plan("--detailed-exitcode", "--json")

    assert result.exit_code == 2, result.stderr
    assert addresses(json.loads(result.stdout)) == {"service.api.deployment": "wait"}


def test_a_failed_latest_deployment_is_redeployed(applied: Odplan, tmp_path: Path) -> None:
    applied.admin("POST", "/deployment-faults", {"mode": "fail", "phase": "build"})
    _deploy_again(applied, tmp_path, "deployed from the dashboard")
    applied.gateway.advance(60)

    result = applied.plan("--detailed-exitcode", "--json")

    assert result.exit_code == 2, result.stderr
    document = json.loads(result.stdout)
    assert addresses(document)["service.api.deployment"] == "deploy"
    deploy = next(a for a in document["actions"] if a["address"] == "service.api.deployment")
    assert "fail" in deploy["reason"]
