"""Reading the gateway's answers safely: JSON that never raises, secrets out of free text.

`decode_json` turns every decoding failure (malformed, not UTF-8, `[` x 100,000, a number too
long to convert) into a default value, so the caller raises one clear `InvalidResponse`.
`scrub_free_text` removes the secrets this client sent from the gateway's free text only
(messages, reasons, log rows), never from data odplan compares, like env values read back.
"""

from __future__ import annotations

import json
from typing import Any

from opendeploy_plan.gateway._errors import scrub

__all__ = ["NOT_JSON", "decode_json", "env_secrets", "remembered", "scrub_free_text"]

NOT_JSON = object()
# Keys whose string values are the gateway's free text for a human (never data odplan compares,
# like env values, which must be read back exactly).
_FREE_TEXT_KEYS = frozenset(
    {"message", "error", "error_msg", "error_message", "reason", "detail", "line", "logs"}
)


def remembered(secret: str) -> bool:
    """Whether a value sent once is scrubbed from all later free text of this client: env
    values count as secrets, and a plain word (`production`, `true`) would blank ordinary
    log lines, so only values of 8+ characters that are not just letters."""
    return len(secret) >= 8 and not secret.isalpha()


# Keys of the env maps in an answer (a service's variables, a database's credentials).
_ENV_KEYS = frozenset({"variables", "env", "env_vars", "runtime_variables", "build_variables"})


def env_secrets(payload: Any, depth: int = 0) -> set[str]:
    """The values of every env map in an answer that `remembered` keeps: a variable read back
    (a database password this run never sent) is a secret in later free text too."""
    found: set[str] = set()
    if depth > 16:
        return found
    if isinstance(payload, list):
        for item in payload:
            found |= env_secrets(item, depth + 1)
    elif isinstance(payload, dict):
        for key, value in payload.items():
            if key in _ENV_KEYS and isinstance(value, dict):
                found |= {v for v in value.values() if isinstance(v, str) and remembered(v)}
            else:
                found |= env_secrets(value, depth + 1)
    return found


def scrub_free_text(payload: Any, secrets: set[str], depth: int = 0, free: bool = False) -> Any:
    """`payload` with the secrets scrubbed out of its free text (`_FREE_TEXT_KEYS`, and every
    string under `logs`); everything else is returned as it is."""
    if isinstance(payload, str):
        return scrub(payload, secrets) if free else payload
    if depth > 16:
        return payload
    if isinstance(payload, list):
        return [scrub_free_text(item, secrets, depth + 1, free) for item in payload]
    if isinstance(payload, dict):
        return {
            key: scrub_free_text(value, secrets, depth + 1, free or key in _FREE_TEXT_KEYS)
            for key, value in payload.items()
        }
    return payload


def decode_json(body: bytes, default: Any = None) -> Any:
    """`body` as JSON, or `default` when it is not JSON odplan accepts: malformed, not UTF-8,
    nested deeper than the parser's recursion limit (`[` x 100,000), or a number too long to
    convert. Never raises."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return default
