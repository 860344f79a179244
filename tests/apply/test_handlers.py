"""The handler registry: every address shape goes to the handler of its resource kind."""

from __future__ import annotations

import pytest

from opendeploy_plan.apply import HANDLERS, ApplyError, handler_for
from opendeploy_plan.apply.handlers import (
    dependency,
    deployment,
    domain,
    env,
    project,
    service,
    source,
)
from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.addresses import ResourceKind, resource_kind, resource_name


@pytest.mark.parametrize(
    ("address", "kind", "name", "handler"),
    [
        ("project", ResourceKind.PROJECT, None, project.apply),
        ("project.source", ResourceKind.SOURCE, None, source.apply),
        ("dependency.db", ResourceKind.DEPENDENCY, "db", dependency.apply),
        ("service.web", ResourceKind.SERVICE, "web", service.apply),
        ("service.web.env", ResourceKind.ENV, "web", env.apply),
        ("service.web.deployment", ResourceKind.DEPLOYMENT, "web", deployment.apply),
        ("service.web.domain", ResourceKind.DOMAIN, "web", domain.apply),
    ],
)
def test_each_address_shape_has_a_kind_and_a_handler(
    address: str, kind: ResourceKind, name: str | None, handler: object
) -> None:
    assert resource_kind(address) is kind
    assert resource_name(address) == name
    assert handler_for(address) is handler


def test_every_kind_has_a_handler() -> None:
    assert set(HANDLERS) == set(ResourceKind)


def test_address_builders_and_kinds_agree() -> None:
    assert resource_kind(addr.dependency("cache")) is ResourceKind.DEPENDENCY
    assert resource_kind(addr.service("api")) is ResourceKind.SERVICE
    assert resource_kind(addr.service_env("api")) is ResourceKind.ENV
    assert resource_kind(addr.service_deployment("api")) is ResourceKind.DEPLOYMENT
    assert resource_kind(addr.service_domain("api")) is ResourceKind.DOMAIN


@pytest.mark.parametrize(
    "address",
    ["", "projects", "service", "service.web.logs", "dependency.a.b", "service.web.source"],
)
def test_anything_else_is_refused(address: str) -> None:
    assert resource_kind(address) is None
    with pytest.raises(ApplyError, match="don't know how to apply"):
        handler_for(address)
