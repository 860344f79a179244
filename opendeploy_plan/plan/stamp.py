"""The deployment stamp: what odplan writes into a deployment's `description` and reads back.

The platform cannot tell us which source a deployment was built from, so odplan records it::

    odplan deploy of web [odplan:v1 project=sha256:1f2e… service=sha256:9a8b… config=c1:77f0…]

The human prefix is free text; the machine part is `odplan:v1` followed by space-separated
`key=value` fields. `project` is the digest of the archive bound to the project before this
deployment, `service` the digest of the service's own source subfolder, `config` a keyed digest
of the runtime and build variables the deployment was started with (`config_digest`), `run` the
apply run id. Unknown keys are ignored (forward compatible); a description without a well-formed
stamp (deployments made by the skill or the dashboard) parses to None.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

STAMP_VERSION: Final = "odplan:v1"
_STAMP_RE: Final = re.compile(r"(?:^|[\s\[])odplan:v1((?:\s+[a-z_]+=[^\s\]]+)*)")
_FIELD_RE: Final = re.compile(r"([a-z_]+)=([^\s\]]+)")
_SAFE_VALUE_RE: Final = re.compile(r"^[^\s\]]+$")


@dataclass(frozen=True)
class Stamp:
    """The source a deployment was built from. Invariant: digests contain no whitespace."""

    project_digest: str
    service_digest: str
    run_id: str | None = None
    config_digest: str | None = None


def config_digest(env: Mapping[str, str], build_variables: Mapping[str, str], key: str) -> str:
    """`c1:<16 hex>`: HMAC-SHA256, keyed by the service id, of the variables a deployment starts
    with. Lets a later plan see variables that were written but never deployed (an apply killed
    between the env PUT and the deployment). Anyone who can read the description can read the
    variables themselves through the same API; the digest is truncated all the same."""
    payload = json.dumps([sorted(env.items()), sorted(build_variables.items())])
    digest = hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"c1:{digest[:16]}"


def format_stamp(stamp: Stamp, prefix: str = "odplan deploy") -> str:
    """`<prefix> [odplan:v1 project=… service=… config=… run=…]`; ValueError on unsafe values."""
    fields = [("project", stamp.project_digest), ("service", stamp.service_digest)]
    if stamp.config_digest:
        fields.append(("config", stamp.config_digest))
    if stamp.run_id:
        fields.append(("run", stamp.run_id))
    for key, value in fields:
        if not _SAFE_VALUE_RE.match(value):
            raise ValueError(f"stamp field {key} may not be empty or contain spaces or ']'")
    body = " ".join(f"{key}={value}" for key, value in fields)
    head = prefix.strip()
    return f"{head} [{STAMP_VERSION} {body}]" if head else f"[{STAMP_VERSION} {body}]"


def parse_stamp(description: str | None) -> Stamp | None:
    """The stamp in a deployment description, or None when there is none (or it is partial)."""
    if not description:
        return None
    match = _STAMP_RE.search(description)
    if match is None:
        return None
    fields = dict(_FIELD_RE.findall(match.group(1)))
    project, service = fields.get("project"), fields.get("service")
    if not project or not service:
        return None
    return Stamp(
        project_digest=project,
        service_digest=service,
        run_id=fields.get("run"),
        config_digest=fields.get("config"),
    )
