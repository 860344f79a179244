"""Print the gateway's OpenAPI document: `python -m opendeploy_plan.emulator.openapi`."""

from __future__ import annotations

import json
from typing import Any

from opendeploy_plan.emulator.app import create_app
from opendeploy_plan.emulator.config import EmulatorConfig


def gateway_openapi() -> dict[str, Any]:
    app = create_app(EmulatorConfig(admin_enabled=False))
    document = app.openapi()
    document["servers"] = [{"url": "/", "description": "the gateway root; base URL is <root>/api"}]
    return document


def render() -> str:
    return json.dumps(gateway_openapi(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
