"""A keyed fingerprint of the observed state, per address, to tell when a saved plan is stale.

Each part is an HMAC-SHA256 (under the plan's salt) of the canonical JSON of what the planner
reads at that address, so secret values count without being recoverable from a saved plan.
Deployment `progress` is left out: it moves while nothing the planner decides on changes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from opendeploy_plan.state.model import ObservedState


def keyed_digest(salt: bytes, payload: object) -> str:
    """HMAC-SHA256 of canonical JSON: stable across runs for equal payloads and salt."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(salt, text.encode(), hashlib.sha256).hexdigest()


def _reveal(values: Mapping[str, Any]) -> dict[str, str]:
    return {k: v.get_secret_value() for k, v in values.items()}


def fingerprint_parts(observed: ObservedState, salt: bytes) -> dict[str, str]:
    """`{address: digest}` for every live resource in `observed`."""
    parts: dict[str, str] = {}
    if observed.project is not None:
        parts["project"] = keyed_digest(salt, observed.project.model_dump())
    for key, dep in observed.dependencies.items():
        payload = dep.model_dump(exclude={"env_vars"})
        payload["env_vars"] = _reveal(dep.env_vars)
        parts[f"dependency.{key}"] = keyed_digest(salt, payload)
    for name, svc in observed.services.items():
        settings = svc.model_dump(exclude={"env", "build_variables", "deployments", "domain"})
        settings["build_variables"] = _reveal(svc.build_variables)
        parts[f"service.{name}"] = keyed_digest(salt, settings)
        parts[f"service.{name}.env"] = keyed_digest(salt, _reveal(svc.env))
        deployments = sorted(
            (d.id, d.status, d.description or "", str(d.created_at or "")) for d in svc.deployments
        )
        parts[f"service.{name}.deployment"] = keyed_digest(salt, deployments)
        domain = svc.domain.model_dump() if svc.domain else None
        parts[f"service.{name}.domain"] = keyed_digest(salt, domain)
    return parts


def combine(parts: Mapping[str, str], salt: bytes) -> str:
    """One digest over all parts (order-independent)."""
    return "hmac-sha256:" + keyed_digest(salt, sorted(parts.items()))


def parts_changed(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Addresses added, removed or changed between two fingerprints."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
