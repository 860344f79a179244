"""The JSON Schema of `opendeploy.yaml`, generated from the models (for editors and CI)."""

from __future__ import annotations

import json
from typing import Any, Final

from opendeploy_plan import platform
from opendeploy_plan.manifest.models import Manifest

SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_PATH: Final = "schemas/opendeploy.schema.json"


def manifest_json_schema() -> dict[str, Any]:
    """The schema of a manifest file: the models' schema plus `environments` overlays.

    Overlays reuse the base definitions with nothing required (an overlay changes only what it
    names) and allow `null`, which removes a key.
    """
    schema = Manifest.model_json_schema()
    definitions: dict[str, Any] = schema["$defs"]
    for name in ("Project", "Dependency", "Service"):
        partial = {key: value for key, value in definitions[name].items() if key != "required"}
        definitions[f"{name}Overlay"] = {**partial, "title": f"{name}Overlay"}

    def removable(reference: str) -> dict[str, Any]:
        return {"anyOf": [{"$ref": reference}, {"type": "null"}]}

    definitions["Overlay"] = {
        "title": "Overlay",
        "description": "Changes for one environment, deep-merged over the base manifest: "
        "mappings merge, lists and scalars replace, null removes.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "project": {"$ref": "#/$defs/ProjectOverlay"},
            "dependencies": {
                "type": "object",
                "additionalProperties": removable("#/$defs/DependencyOverlay"),
            },
            "services": {
                "type": "object",
                "additionalProperties": removable("#/$defs/ServiceOverlay"),
            },
        },
    }
    schema["properties"]["environments"] = {
        "description": "Per-environment overlays, selected with -e/--environment or "
        "OD_ENVIRONMENT.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            name: {"anyOf": [{"$ref": "#/$defs/Overlay"}, {"type": "null"}]}
            for name in platform.ENVIRONMENTS
        },
    }
    schema["title"] = "opendeploy.yaml"
    schema["description"] = "An opendeploy project, its databases and services (version 1)."
    return {"$schema": SCHEMA_DIALECT, **schema}


def manifest_json_schema_text() -> str:
    """The schema as committed in `schemas/opendeploy.schema.json`."""
    return json.dumps(manifest_json_schema(), indent=2, sort_keys=True) + "\n"
