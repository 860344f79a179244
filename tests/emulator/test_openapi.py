"""The published OpenAPI document is current and describes every documented endpoint."""

from __future__ import annotations

import json
from pathlib import Path

from opendeploy_plan.emulator.openapi import render

PUBLISHED = Path(__file__).resolve().parents[2] / "schemas" / "gateway.openapi.json"

# skill.json's bearer_pipeline, SKILL.md's quick reads, api-schemas.md and operate.md.
DOCUMENTED = {
    ("post", "/api/v1/client-guests/register"),
    ("get", "/api/v1/client-guests/{guest_id}/status"),
    ("post", "/api/v1/client-guests/{guest_id}/bind"),
    ("get", "/api/v1/client-guests"),
    ("patch", "/api/v1/client-guests/{guest_id}"),
    ("delete", "/api/v1/client-guests/{guest_id}"),
    ("get", "/api/v1/profile"),
    ("get", "/api/v1/regions/"),
    ("post", "/api/v1/projects/"),
    ("get", "/api/v1/projects/"),
    ("get", "/api/v1/projects/{project_id}"),
    ("delete", "/api/v1/projects/{project_id}"),
    ("post", "/api/v1/projects/{project_id}/services/"),
    ("get", "/api/v1/projects/{project_id}/services/"),
    ("get", "/api/v1/services/{service_id}"),
    ("put", "/api/v1/services/{service_id}"),
    ("get", "/api/v1/projects/{project_id}/services/{service_id}/env"),
    ("put", "/api/v1/projects/{project_id}/services/{service_id}/env"),
    ("get", "/api/v1/projects/{project_id}/services/{service_id}/logs"),
    ("post", "/api/v1/dependencies/create"),
    ("get", "/api/v1/dependencies/status/{project_id}"),
    ("delete", "/api/v1/dependencies/{project_id}/{dependency_id}"),
    ("post", "/api/v1/upload/upload-only"),
    ("post", "/api/v1/upload/update-source"),
    ("post", "/api/v1/deployments/"),
    ("get", "/api/v1/deployments/"),
    ("get", "/api/v1/deployments/{deployment_id}"),
    ("get", "/api/v1/deployments/{deployment_id}/logs"),
    ("get", "/api/v1/deployments/{deployment_id}/logs/stream"),
    ("get", "/api/v1/deployments/{deployment_id}/build-logs/stream"),
    ("post", "/api/v1/deployments/{deployment_id}/cancel"),
    ("post", "/api/v1/deployments/{deployment_id}/rollback"),
    ("get", "/api/v1/projects/{project_id}/deployments/"),
    ("get", "/api/v1/service-domains"),
    ("get", "/api/v1/service-domains/check-subdomain/{subdomain}"),
    ("put", "/api/v1/service-domains/{domain_id}/subdomain"),
    ("post", "/api/v1/service-domains/{domain_id}/retry"),
    ("get", "/api/v1/billing/quota"),
}


def test_published_openapi_is_current() -> None:
    assert PUBLISHED.read_text() == render(), (
        "schemas/gateway.openapi.json is stale: run "
        "`python -m opendeploy_plan.emulator.openapi > schemas/gateway.openapi.json`"
    )


def test_every_documented_endpoint_is_published() -> None:
    document = json.loads(PUBLISHED.read_text())
    published = {(method, path) for path, ops in document["paths"].items() for method in ops}
    assert published >= DOCUMENTED, sorted(DOCUMENTED - published)


def test_bearer_auth_is_declared_except_for_anonymous_routes() -> None:
    document = json.loads(PUBLISHED.read_text())
    register = document["paths"]["/api/v1/client-guests/register"]["post"]
    assert "security" not in register
    regions = document["paths"]["/api/v1/regions/"]["get"]
    assert regions["security"] == [{"bearer": []}]


def test_request_bodies_are_described_by_models() -> None:
    document = json.loads(PUBLISHED.read_text())
    schemas = document["components"]["schemas"]
    assert schemas["DeploymentCreate"]["required"] == [
        "project_id",
        "service_id",
        "environment",
        "source",
        "temp_file_path",
    ]
    assert "HTTPValidationError" not in schemas
    assert schemas["ResourceLimits"]["properties"]["cpu_limit"]["anyOf"][0]["type"] == "number"
