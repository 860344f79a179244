"""The `odplan whoami` views: aligned `Label: value` lines, or the JSON object. Keys are only
ever shown redacted (the caller passes `od_a***`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

import click

__all__ = ["WhoamiHuman", "WhoamiJSON", "WhoamiView", "whoami_view"]

_STATE_TEXT = {
    "dashboard": "dashboard token",
    "guest pending": "guest credential, not yet linked to an account",
    "guest bound": "guest credential, linked to an account",
    "rejected": "rejected by the gateway",
    "unknown": "unknown",
}


class WhoamiView(Protocol):
    def credential(self, info: Mapping[str, Any]) -> None: ...


class WhoamiHuman:
    def credential(self, info: Mapping[str, Any]) -> None:
        rows = [
            ("Gateway", info["address"]),
            ("Credential", f"{info['key']} from {info['source']}"),
            ("Kind", _STATE_TEXT.get(str(info["state"]), str(info["state"]))),
        ]
        if info["email"]:
            rows.append(
                ("Account", f"{info['email']}" + (f" ({info['plan']})" if info["plan"] else ""))
            )
        if info["bind_url"]:
            rows.append(("Bind URL", info["bind_url"]))
        width = max(len(label) for label, _ in rows) + 1
        for label, value in rows:
            click.echo(f"{label + ':':<{width}} {value}")


class WhoamiJSON:
    def credential(self, info: Mapping[str, Any]) -> None:
        click.echo(json.dumps(info, indent=2))


def whoami_view(*, as_json: bool) -> WhoamiView:
    return WhoamiJSON() if as_json else WhoamiHuman()
