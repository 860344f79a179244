"""The deployment stamp: what odplan writes into a deployment's `description` and reads back.

The platform cannot tell us which source a deployment was built from, so odplan records it::

    odplan deploy of web [odplan:v2 p=odsrc1:1f2e3d4c5b6a7980a1b2c3d4 s=odsrc1:9a8b… c=c1:77f0… r=…]

The human prefix is free text; the machine part is `odplan:v2` followed by space-separated
`key=value` fields. `p` is the digest of the archive bound to the project before this
deployment, `s` the digest of the service's own source subfolder (both cut to their first
`STAMP_DIGEST_HEX` hex digits), `c` a keyed digest of the runtime and build
variables the deployment was started with (`config_digest`), `b` a keyed digest of the build
variables the manifest asked for (`build_digest`: the documents never show a service's
`build_variables`, so against such a gateway this is the only way a later plan can see a
`build_env`-only change), `r` the apply run id.

The whole description stays within `DESCRIPTION_MAX_CHARS` (the human prefix is shortened,
never the machine part): the documented profile cuts a description at 255 characters and the
real limit is not documented. A stamp is only read when its closing `]` is there, so a cut
stamp parses to None ("source unknown", one redeploy writes a readable stamp) instead of to a
wrong digest (a redeploy on every plan). The older `odplan:v1` form with full digests and long
keys is still read. Unknown keys are ignored (forward compatible); a description without a
well-formed stamp (deployments made by the skill or the dashboard) parses to None.

A rollback deployment is written by the platform (`Rollback to <deployment id>`) and carries
no stamp, but it runs the target's build: `source_stamp` follows it to the target's stamp, so
after `odplan rollback` the plan still knows which source runs (and a rollback never rebinds
the project's archive: `is_rollback` lets the bind rule look past it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

STAMP_VERSION: Final = "odplan:v2"
# 96 bits of the sha256: collisions between two archives of one project are not a concern.
STAMP_DIGEST_HEX: Final = 24
# Descriptions odplan writes never exceed this (the shortest limit we know of).
DESCRIPTION_MAX_CHARS: Final = 255
_STAMP_RE: Final = re.compile(r"(?:^|[\s\[])odplan:(v[12])((?:\s+[a-z_]+=[^\s\]]+)*)\s*\]")
_FIELD_NAMES: Final = {"p": "project", "s": "service", "c": "config", "b": "build", "r": "run"}
_FIELD_RE: Final = re.compile(r"([a-z_]+)=([^\s\]]+)")
_SAFE_VALUE_RE: Final = re.compile(r"^[^\s\]]+$")
# The description the platform writes on a rollback deployment (emulator/deployments.py says
# the same); the id is the deployment rolled back to.
_ROLLBACK_RE: Final = re.compile(r"^\s*Rollback to ([0-9A-Za-z][0-9A-Za-z_-]*)\s*$")
# How many rollbacks of rollbacks are followed before the source counts as unknown.
_ROLLBACK_HOPS: Final = 8


@dataclass(frozen=True)
class Stamp:
    """The source a deployment was built from. Invariant: digests contain no whitespace."""

    project_digest: str
    service_digest: str
    run_id: str | None = None
    config_digest: str | None = None
    build_digest: str | None = None


def config_digest(env: Mapping[str, str], build_variables: Mapping[str, str], key: str) -> str:
    """`c1:<16 hex>`: HMAC-SHA256, keyed by the service id, of the variables a deployment starts
    with. Lets a later plan see variables that were written but never deployed (an apply killed
    between the env PUT and the deployment). Anyone who can read the description can read the
    variables themselves through the same API; the digest is truncated all the same."""
    payload = json.dumps([sorted(env.items()), sorted(build_variables.items())])
    digest = hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"c1:{digest[:16]}"


def build_digest(build_variables: Mapping[str, str], key: str) -> str:
    """`b1:<16 hex>`: HMAC-SHA256, keyed by the service id, of the build variables the
    manifest asked for (what apply sent), truncated like `config_digest`."""
    payload = json.dumps(sorted(build_variables.items()))
    digest = hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"b1:{digest[:16]}"


def compact_digest(digest: str) -> str:
    """`odsrc1:<64 hex>` → `odsrc1:<first STAMP_DIGEST_HEX hex>`, as written in a stamp."""
    algo, sep, hexpart = digest.partition(":")
    return f"{algo}{sep}{hexpart[:STAMP_DIGEST_HEX]}" if sep else digest[:STAMP_DIGEST_HEX]


def same_digest(stamped: str, digest: str) -> bool:
    """Whether a digest read from a stamp (compact or, from a v1 stamp, full) names `digest`
    (in either form too)."""
    return stamped == digest or compact_digest(stamped) == compact_digest(digest)


def format_stamp(stamp: Stamp, prefix: str = "odplan deploy") -> str:
    """`<prefix> [odplan:v2 p=… s=… c=… r=…]`, at most `DESCRIPTION_MAX_CHARS` long (the prefix
    is shortened to fit); ValueError on unsafe values."""
    fields = [
        ("p", compact_digest(stamp.project_digest)),
        ("s", compact_digest(stamp.service_digest)),
    ]
    if stamp.config_digest:
        fields.append(("c", stamp.config_digest))
    if stamp.build_digest:
        fields.append(("b", stamp.build_digest))
    if stamp.run_id:
        fields.append(("r", stamp.run_id))
    for key, value in fields:
        if not _SAFE_VALUE_RE.match(value):
            name = _FIELD_NAMES[key]
            raise ValueError(f"stamp field {name} may not be empty or contain spaces or ']'")
    body = " ".join(f"{key}={value}" for key, value in fields)
    machine = f"[{STAMP_VERSION} {body}]"
    room = DESCRIPTION_MAX_CHARS - len(machine) - 1
    if room <= 0:
        raise ValueError("stamp fields too long for a deployment description")
    head = prefix.strip()
    if len(head) > room:
        head = head[: room - 1].rstrip() + "…"
    return f"{head} {machine}" if head else machine


def parse_stamp(description: str | None) -> Stamp | None:
    """The stamp in a deployment description, or None when there is none (or it is partial)."""
    if not description:
        return None
    match = _STAMP_RE.search(description)
    if match is None:
        return None
    fields = dict(_FIELD_RE.findall(match.group(2)))
    if match.group(1) == "v1":
        fields = {
            "p": fields.get("project", ""),
            "s": fields.get("service", ""),
            "c": fields.get("config", ""),
            "r": fields.get("run", ""),
        }
    project, service = fields.get("p"), fields.get("s")
    if not project or not service:
        return None
    return Stamp(
        project_digest=project,
        service_digest=service,
        run_id=fields.get("r") or None,
        config_digest=fields.get("c") or None,
        build_digest=fields.get("b") or None,
    )


def rollback_target_id(description: str | None) -> str | None:
    """The deployment a rollback deployment returned to, from its description, else None."""
    match = _ROLLBACK_RE.match(description or "")
    return match.group(1) if match else None


def is_rollback(description: str | None) -> bool:
    """Whether a deployment with this description is a platform rollback."""
    return rollback_target_id(description) is not None


def source_stamp(
    description: str | None, description_of: Callable[[str], str | None]
) -> Stamp | None:
    """The stamp of the source a deployment runs: its own, or for a rollback the stamp of the
    deployment it returned to (`description_of(id)`: that deployment's description, None when
    it is not known). The `config` and `run` fields are dropped on the way: the rollback did
    not start with the target's variables (it does run the target's build, so `build` stays)."""
    hops = 0
    current = description
    while True:
        stamp = parse_stamp(current)
        if stamp is not None:
            if hops == 0:
                return stamp
            return Stamp(
                stamp.project_digest, stamp.service_digest, build_digest=stamp.build_digest
            )
        target = rollback_target_id(current)
        if target is None or hops >= _ROLLBACK_HOPS:
            return None
        current = description_of(target)
        hops += 1
