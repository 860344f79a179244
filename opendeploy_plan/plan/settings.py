"""The one rule for "this service setting is what the manifest asks for".

The planner (is an update needed?) and apply's read-back (did the gateway keep what was sent?)
must agree, or a correct value fails its read-back, or a kept value shows as a perpetual diff.
Both compare through `same_setting` / `settings_diff`. Pure: no I/O.

Both sides are brought to one normal form before comparing:
- an empty value (`None`, `""`) is what the platform uses for an empty field
  (`replicas` 1, `auto_scaling` and `internal_only` false; api-schemas.md step 3.3);
- `source_path` as a folder inside the archive, `.` for the root (the gateway answers `""`);
- cpu and memory quantities by value (`1` = `1000m`, `1Gi` = `1024Mi`); a quantity that does
  not parse is compared as text (the platform echoes what it was sent);
- lists (the sibling `dependencies`) as sets: order and repeats carry no meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from opendeploy_plan import platform
from opendeploy_plan.source import SourceError, normalize_subpath

__all__ = ["PLATFORM_DEFAULTS", "normal_setting", "same_setting", "settings_diff"]

# What the platform uses when a service row leaves a field empty (api-schemas.md step 3.3).
PLATFORM_DEFAULTS: Mapping[str, object] = {
    "replicas": 1,
    "auto_scaling": False,
    "internal_only": False,
}

_QUANTITY_PARSERS: Mapping[str, Callable[[str], int]] = {
    "cpu_request": platform.cpu_millicores,
    "cpu_limit": platform.cpu_millicores,
    "memory_request": platform.memory_bytes,
    "memory_limit": platform.memory_bytes,
}


def normal_setting(name: str, value: object) -> object:
    """`value` of the service field `name` in the normal form both sides are compared in."""
    if name == "source_path":
        text = "" if value is None else str(value)
        try:
            return normalize_subpath(text) or "."
        except SourceError:
            return text
    if value is None or value == "":
        return PLATFORM_DEFAULTS.get(name)
    parse = _QUANTITY_PARSERS.get(name)
    if parse is not None and not isinstance(value, bool):
        try:
            return parse(str(value))
        except ValueError:
            return str(value).strip()
    if isinstance(value, list | tuple | set | frozenset):
        return sorted({str(item) for item in value})
    return value


def same_setting(name: str, desired: object, live: object) -> bool:
    """True when the live value of field `name` is what `desired` asks for."""
    return normal_setting(name, desired) == normal_setting(name, live)


def settings_diff(desired: Mapping[str, object], live: Mapping[str, object]) -> tuple[str, ...]:
    """The fields of `desired` whose value in the `live` row differs, sorted.

    `desired` holds only the fields the manifest sets (a field it leaves out is not managed);
    a field missing from `live` counts as empty.
    """
    return tuple(
        sorted(
            name for name, want in desired.items() if not same_setting(name, want, live.get(name))
        )
    )
