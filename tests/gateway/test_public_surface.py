"""The gateway package's public surface is pinned (httpx's test_exported_members)."""

from __future__ import annotations

import opendeploy_plan.gateway as gateway


def test_every_exported_name_exists_and_is_listed() -> None:
    assert sorted(gateway.__all__) == sorted(set(gateway.__all__))
    for name in gateway.__all__:
        assert hasattr(gateway, name), name
    public = {n for n in vars(gateway) if not n.startswith("_") and n != "annotations"}
    assert public <= set(gateway.__all__), public - set(gateway.__all__)


def test_every_error_is_a_gateway_error_with_a_hint() -> None:
    for name in gateway.__all__:
        value = getattr(gateway, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, gateway.GatewayError), name
