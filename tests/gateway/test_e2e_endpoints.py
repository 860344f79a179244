"""Every endpoint odplan uses, over real HTTP against the local gateway (uvicorn, 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opendeploy_plan.gateway import GatewayClient, RequestRecord
from tests.gateway.helpers import client_for, make_zip

pytestmark = pytest.mark.anyio


async def wait_terminal(live: Any, client: GatewayClient, deployment_id: str) -> str:
    for _ in range(40):
        deployment = await client.get_deployment(deployment_id)
        if deployment.status in ("success", "failed", "cancelled", "rolled_back"):
            return deployment.status
        live.clock.advance(1.0)
    raise AssertionError("deployment never reached a terminal status")


async def test_the_whole_deploy_pipeline_endpoint_by_endpoint(
    live_gateway: Any, tmp_path: Path
) -> None:
    records: list[RequestRecord] = []
    async with client_for(live_gateway, on_request=records.append) as client:
        region = await client.active_region()
        assert region.status == "active"
        assert (await client.profile()).email

        project = await client.create_project("shop", region_id=region.id)
        assert project.name == "shop"
        assert (await client.get_project(project.id)).id == project.id
        assert [p.id for p in await client.list_projects()] == [project.id]

        dependency = await client.create_dependency(
            project.id, "postgres", environment="production"
        )
        assert dependency.env_vars, "a dependency hands out its env_vars"
        status = await client.dependency_status(project.id)
        assert [d.id for d in status.dependencies] == [dependency.id]
        found = await client.find_dependency(project.id, type="postgres")
        assert found is not None and found.id == dependency.id

        created = await client.create_service(
            project.id,
            {
                "name": "web",
                "type": "web",
                "environment": "production",
                "port": 8000,
                "runtime_variables": {**dependency.env_vars, "MODE": "prod"},
                "cpu_request": "250m",
                "cpu_limit": "1",
                "memory_request": "256Mi",
                "memory_limit": "1Gi",
            },
        )
        services = await client.list_services(project.id)
        assert [s.id for s in services] == [created.service_id]
        service = await client.get_service(created.service_id)
        assert service.name == "web"
        resized = await client.update_service(service.id, {"memory_limit": "2Gi"})
        assert resized.memory_limit == "2Gi"
        env = await client.get_env(project.id, service.id)
        assert env.variables["MODE"] == "prod"
        replaced = await client.replace_env(project.id, service.id, {"MODE": "staging"})
        assert replaced.variables == {"MODE": "staging"}, "env PUT is a full replace"

        upload = await client.upload_only(
            make_zip(tmp_path), project_name="shop", region_id=region.id
        )
        assert upload.temp_file_path
        bound = await client.update_source(project.id, upload.temp_file_path)
        assert bound.source_path

        deployment = await client.create_deployment(
            project.id,
            service.id,
            environment="production",
            temp_file_path=upload.temp_file_path,
            description="odplan run=r-42 digest=abc",
            dependencies=[dependency.id],
        )
        assert (await client.get_deployment(deployment.id)).id == deployment.id
        assert await wait_terminal(live_gateway, client, deployment.id) == "success"
        listed = await client.list_deployments(project_id=project.id)
        assert deployment.id in [d.id for d in listed]
        marked = await client.find_deployment_by_description(
            service.id, "run=r-42", project_id=project.id
        )
        assert marked is not None and marked.id == deployment.id
        successes = await client.project_deployments(project.id, status="success")
        assert [d.id for d in successes] == [deployment.id]
        logs = await client.deployment_logs(deployment.id, tail=50)
        assert logs.total == len(logs.logs or []) > 0
        events = [e async for e in client.stream_deployment_logs(deployment.id)]
        assert events[-1].event == "end" and "success" in events[-1].data
        assert (await client.service_logs(project.id, service.id, tail=10)).logs is not None

        live_gateway.clock.advance(5)
        domains = await client.list_service_domains(
            service.id, environment="production", type="auto"
        )
        assert domains and domains[0].domain.endswith("opendeploy.run")
        check = await client.check_subdomain("odplan-shop-e2e")
        assert check.available
        assert not (await client.check_subdomain("admin")).available
        renamed = await client.rename_subdomain(domains[0].id, "odplan-shop-e2e")
        assert renamed.domain == "odplan-shop-e2e.opendeploy.run"
        assert (await client.retry_domain(renamed.id)).status
        assert (await client.billing_quota()).model_extra

        second = await client.create_deployment(
            project.id, service.id, environment="production", temp_file_path=upload.temp_file_path
        )
        await client.cancel_deployment(second.id)
        assert (await client.get_deployment(second.id)).status == "cancelled"
        await client.rollback_deployment(deployment.id)

        await client.delete_dependency(project.id, dependency.id)
        assert (await client.dependency_status(project.id)).dependencies == []
        await client.delete_project(project.id)
        assert await client.find_project_by_name("shop") is None

    assert all(r.status_code is not None and r.status_code < 400 for r in records)
    assert {r.path for r in records if r.method == "GET"} >= {"/v1/regions/", "/v1/projects/"}
