"""What an address names: apply picks its handler by `resource_kind`, and `resource_name` is
the manifest name an action is about (the dependency key or the service name)."""

from __future__ import annotations

import pytest

from opendeploy_plan.plan.addresses import ResourceKind, resource_kind, resource_name


@pytest.mark.parametrize(
    ("address", "kind", "name"),
    [
        ("project", ResourceKind.PROJECT, None),
        ("project.source", ResourceKind.SOURCE, None),
        ("dependency.db", ResourceKind.DEPENDENCY, "db"),
        ("service.web", ResourceKind.SERVICE, "web"),
        ("service.web.env", ResourceKind.ENV, "web"),
        ("service.web.deployment", ResourceKind.DEPLOYMENT, "web"),
        ("service.web.domain", ResourceKind.DOMAIN, "web"),
        ("service.api-2.env", ResourceKind.ENV, "api-2"),
    ],
)
def test_each_canonical_address_has_its_kind_and_name(
    address: str, kind: ResourceKind, name: str | None
) -> None:
    assert resource_kind(address) is kind
    assert resource_name(address) == name


@pytest.mark.parametrize(
    "text", ["", "web", "service", "services.web", "service.web.envs", "dependency", "db.web"]
)
def test_anything_else_has_no_kind_and_no_name(text: str) -> None:
    assert resource_kind(text) is None
    assert resource_name(text) is None
