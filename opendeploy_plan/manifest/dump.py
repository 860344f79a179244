"""Writing a manifest back as YAML (for `odplan init` and round-trip tests)."""

from __future__ import annotations

from typing import Any

import yaml

from opendeploy_plan.manifest.models import Manifest

SCHEMA_MODELINE_PREFIX = "# yaml-language-server: $schema="


def dump_manifest(manifest: Manifest, schema_url: str | None = None) -> str:
    """YAML text that loads back to an equal manifest; fields left at their defaults are omitted.

    `schema_url` (e.g. a path to schemas/opendeploy.schema.json) adds the editor modeline.
    """
    data: dict[str, Any] = manifest.model_dump(mode="json", exclude_defaults=True)
    data["version"] = manifest.version  # always written, even though it is the only value
    ordered = {"version": data.pop("version"), **data}
    text = yaml.safe_dump(
        ordered,
        sort_keys=False,
        allow_unicode=not any(_has_unicode_line_break(t) for t in _strings(ordered)),
        width=100,
    )
    if schema_url:
        return f"{SCHEMA_MODELINE_PREFIX}{schema_url}\n{text}"
    return text


# PyYAML writes these raw when allowed to write Unicode, and YAML readers then fold them into
# spaces; escaping all non-ASCII text is the only way it keeps them.
_UNICODE_LINE_BREAKS = ("\x85", "\u2028", "\u2029")


def _has_unicode_line_break(text: str) -> bool:
    return any(ch in text for ch in _UNICODE_LINE_BREAKS)


def _strings(value: object) -> list[str]:
    """The text values in dumped data (keys are DNS labels, env names or field names: ASCII)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for inner in value.values() for s in _strings(inner)]
    if isinstance(value, list):
        return [s for inner in value for s in _strings(inner)]
    return []
