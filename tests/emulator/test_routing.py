"""Routing as the gateway does it: 301 to the slashed collection, gin's plain 404 elsewhere."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import Api


@pytest.fixture
def api(live_gateway) -> Api:
    client = Api(live_gateway, live_gateway.dashboard_token)
    client.http.follow_redirects = False
    return client


def test_every_collection_without_its_slash_is_a_301_to_the_slashed_url(api: Api) -> None:
    project = api.project()
    pid = project["id"]
    for method in ("GET", "POST"):
        for path in (
            "/v1/regions",
            "/v1/projects",
            "/v1/deployments",
            f"/v1/projects/{pid}/services",
            f"/v1/projects/{pid}/deployments",
        ):
            response = api.http.request(method, path, json={})
            assert response.status_code == 301, (method, path)
            assert response.headers["location"].endswith(f"/api{path}/")
            assert "Moved Permanently" in response.text


def test_the_301_keeps_the_query_string(api: Api) -> None:
    response = api.get("/v1/deployments", params={"project_id": "p1", "status": "success"})
    assert response.headers["location"].endswith(
        "/api/v1/deployments/?project_id=p1&status=success"
    )


def test_a_post_that_follows_the_301_lands_on_the_list_not_the_create(api: Api) -> None:
    api.http.follow_redirects = True
    response = api.post(
        "/v1/projects", json={"name": "lost", "repo_url": "file://upload", "skip_validation": True}
    )
    # Like curl -L without --post301: the POST became a GET, so nothing was created.
    assert response.status_code == 200
    assert response.json() == {"data": [], "total": 0}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/deployments/00000000-0000-4000-8000-000000000000/status"),
        ("GET", "/v1/deployments/status/00000000-0000-4000-8000-000000000000"),
        ("PUT", "/v1/projects/00000000-0000-4000-8000-000000000000/resources"),
        ("GET", "/v1/logs/deployment/00000000-0000-4000-8000-000000000000"),
        ("POST", "/v1/upload/analyze-only"),
        ("DELETE", "/v1/regions/"),
    ],
)
def test_routes_the_gateway_does_not_register_are_a_plain_404(
    api: Api, method: str, path: str
) -> None:
    response = api.http.request(method, path)
    assert response.status_code == 404
    assert response.text == "404 page not found"


def test_a_missing_resource_is_a_json_404(api: Api) -> None:
    response = api.get("/v1/projects/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json() == {"error": "project not found"}


def test_service_domains_is_served_without_a_redirect(api: Api) -> None:
    response = api.get("/v1/service-domains")
    assert response.status_code == 400
    assert "service_id" in response.json()["error"]
