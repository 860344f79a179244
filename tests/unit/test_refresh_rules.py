"""Refresh's pure rules, unit by unit (the gateway reads around them are tested end to end):
which rows are this environment's, which database a key names, how rows become observed
models, and the latest successful deployment by time."""

from __future__ import annotations

from pydantic import SecretStr

from opendeploy_plan.gateway import Dependency, Deployment, Service, ServiceDomain
from opendeploy_plan.state.model import ObservedDeployment, ObservedDomain, ObservedService
from opendeploy_plan.state.refresh import (
    _auto_domain,
    _databases,
    _deployment,
    _optional_bool,
    _optional_str,
    _ours,
    dependency_key,
    in_environment,
    normal_source_path,
    secret_map,
)


def _db(id_: str, **fields: str) -> Dependency:
    return Dependency.model_validate({"id": id_, **fields})


def test_rows_without_an_environment_belong_to_every_environment() -> None:
    assert in_environment("", "production")
    assert in_environment("production", "production")
    assert not in_environment("staging", "production")


def test_the_key_a_database_goes_by() -> None:
    assert dependency_key(_db("d1", display_name="db", name="n", dependency_id="t")) == "db"
    assert dependency_key(_db("d1", name="n", dependency_id="t")) == "n"
    assert dependency_key(_db("d1", dependency_id="t")) == "t"
    assert dependency_key(_db("d1")) == "d1"


def test_databases_of_this_environment_first_row_wins_and_duplicates_are_named() -> None:
    rows = [
        _db("d1", display_name="db", environment="production"),
        _db("d2", display_name="db", environment=""),
        _db("d3", display_name="db", environment="staging"),
        _db("d4", display_name="cache", environment="production"),
    ]
    first, duplicates, strays = _databases(rows, "production", {})
    assert {k: v.id for k, v in first.items()} == {"db": "d1", "cache": "d4"}
    assert duplicates == {"db": ("d1", "d2")}
    assert strays == {}


def test_services_of_this_environment_by_name() -> None:
    rows = [
        Service.model_validate({"id": "s2", "name": "web", "environment": "staging"}),
        Service.model_validate({"id": "s1", "name": "web", "environment": "production"}),
        Service.model_validate({"id": "s3", "name": "api", "environment": ""}),
    ]
    ours = _ours(rows, "production")
    assert list(ours) == ["api", "web"]
    assert ours["web"].id == "s1"


def test_optional_fields() -> None:
    assert _optional_str(None) is None and _optional_str("") is None
    assert _optional_str(5) == "5" and _optional_str("x") == "x"
    assert _optional_bool(None) is None
    assert _optional_bool(0) is False and _optional_bool(1) is True


def test_source_paths_and_secrets() -> None:
    assert normal_source_path("") == "."
    assert normal_source_path("./api/") == "api"
    assert normal_source_path("/abs") == "/abs"  # not ours to judge here: kept as given
    secrets = secret_map({"A": "1"})
    assert isinstance(secrets["A"], SecretStr) and secrets["A"].get_secret_value() == "1"


def test_the_auto_domain_of_this_environment() -> None:
    rows = [
        ServiceDomain.model_validate({"id": "c", "domain": "c.example", "type": "custom"}),
        ServiceDomain.model_validate(
            {"id": "s", "domain": "s.example", "type": "auto", "environment": "staging"}
        ),
        ServiceDomain.model_validate(
            {"id": "p", "domain": "p.example", "type": "auto", "environment": "production"}
        ),
    ]
    assert _auto_domain(rows, "production") == ObservedDomain(
        id="p", domain="p.example", environment="production"
    )
    legacy = [ServiceDomain.model_validate({"id": "l", "domain": "l.example"})]
    assert _auto_domain(legacy, "staging") == ObservedDomain(
        id="l", domain="l.example", environment="staging"
    )
    assert _auto_domain(rows[:1], "production") is None


def test_a_deployment_row_becomes_an_observed_deployment() -> None:
    row = Deployment.model_validate(
        {
            "id": "d",
            "status": "success",
            "progress": None,
            "description": "",
            "created_at": "2026-01-01T10:00:00Z",
        }
    )
    observed = _deployment(row)
    assert observed == ObservedDeployment(
        id="d", status="success", progress=0, description=None, created_at="2026-01-01T10:00:00Z"
    )
    stamped = _deployment(row.model_copy(update={"progress": 40, "description": "x"}))
    assert (stamped.progress, stamped.description) == (40, "x")


def test_latest_successful_deployment_is_the_latest_in_time() -> None:
    service = ObservedService(
        id="s",
        type="web",
        environment="production",
        deployments=(
            ObservedDeployment(id="b-old", status="success", created_at="2026-01-01T10:00:00Z"),
            ObservedDeployment(id="a-new", status="success", created_at="2026-01-02T10:00:00Z"),
            ObservedDeployment(id="z-fail", status="failed", created_at="2026-01-03T10:00:00Z"),
            ObservedDeployment(id="y-stop", status="cancelled", created_at="2026-01-04T10:00:00Z"),
            ObservedDeployment(id="x-run", status="building", created_at="2026-01-05T10:00:00Z"),
            ObservedDeployment(id="w-wait", status="pending", created_at="2026-01-06T10:00:00Z"),
        ),
    )
    # Only a `success` serves: newer failed, cancelled and in-flight ones do not count.
    latest = service.latest_successful_deployment()
    assert latest is not None and latest.id == "a-new"
    assert (
        ObservedService(id="s", type="web", environment="x").latest_successful_deployment() is None
    )
