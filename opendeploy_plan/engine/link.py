"""The folder link: the gateway a folder was last applied to, as linked folders in other CLIs.

`odplan apply` writes `.opendeploy/gateway.json` next to the manifest (the gateway's name,
`local`, or its URL: never a credential); later commands run in that folder use it unless
`--gateway` or `OD_GATEWAY` say otherwise (`cli.options.GatewayChoice`). The folder is
odplan's own (never uploaded, `.gitignore`d).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from opendeploy_plan.fsutil import write_atomic

__all__ = ["LINK_FILE", "LINK_FORMAT", "read_link", "write_link"]

LINK_FILE: Final = Path(".opendeploy") / "gateway.json"
LINK_FORMAT: Final = "odplan-gateway-link/1"


def read_link(folder: Path) -> str | None:
    """The gateway `folder` was last applied to (`local` or a URL), or None. Lenient: an
    unreadable or foreign file is no link."""
    try:
        data = json.loads((folder / LINK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != LINK_FORMAT:
        return None
    gateway = data.get("gateway")
    return gateway.strip() if isinstance(gateway, str) and gateway.strip() else None


def write_link(folder: Path, gateway: str) -> None:
    """Remember `gateway` for `folder` (best effort: a read-only tree just has no link). The
    folder gets a `.gitignore` of `*`, as odplan's caches do: nothing in it is to commit."""
    if gateway == read_link(folder):
        return
    path = folder / LINK_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n", encoding="utf-8")
        write_atomic(path, json.dumps({"format": LINK_FORMAT, "gateway": gateway}) + "\n")
    except OSError:
        return
