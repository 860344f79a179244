"""What the client puts in request bodies: the secrets they carry, and no unknown values.

The documents say to omit what is not known, never to fabricate it (`port: 0`, `language: ""`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Request-body keys whose values are secrets: scrubbed from any error text the gateway echoes.
_SECRET_BODY_KEYS = frozenset(
    {"runtime_variables", "build_variables", "variables", "env_vars", "password", "token"}
)
# Nested upload fields whose values are secrets.
_SECRET_FORM_FIELDS = frozenset({"git_token"})
# Env maps inside a body: passed through as they are.
_ENV_KEYS = frozenset({"env", "runtime_variables", "build_variables", "env_vars", "variables"})


def secret_values(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """The secret values a request body carries, to scrub from any error text echoed back."""
    values: list[str] = []
    for key, value in spec.items():
        if key in _SECRET_BODY_KEYS | _SECRET_FORM_FIELDS:
            if isinstance(value, Mapping):
                values.extend(str(v) for v in value.values())
            elif isinstance(value, str):
                values.append(value)
    return tuple(values)


def omit_unknown(value: Mapping[str, Any]) -> dict[str, Any]:
    """`value` without the fields that only say "not known": `None`, `""` and a `port` of 0,
    also inside nested maps and lists of maps. Env maps are kept whole (an empty value is a
    real value there)."""
    result: dict[str, Any] = {}
    for key, item in value.items():
        if key in _SECRET_BODY_KEYS or key in _ENV_KEYS:
            result[key] = item
        elif item is None or item == "" or (key == "port" and item == 0):
            continue
        elif isinstance(item, Mapping):
            result[key] = omit_unknown(item)
        elif isinstance(item, list):
            result[key] = [omit_unknown(i) if isinstance(i, Mapping) else i for i in item]
        else:
            result[key] = item
    return result
