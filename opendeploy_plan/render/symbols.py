"""Shared vocabulary of the plan views: one symbol, verb and colour per action kind."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from opendeploy_plan.plan.model import ActionKind, ChangeKind, DisplayValue, Mask

SYMBOL: Final[Mapping[ActionKind, str]] = {
    ActionKind.CREATE: "+",
    ActionKind.UPDATE: "~",
    ActionKind.REPLACE: "-/+",
    ActionKind.DELETE: "-",
    ActionKind.BIND_SOURCE: "^",
    ActionKind.DEPLOY: ">",
    ActionKind.RENAME_DOMAIN: "~",
    ActionKind.WAIT: "*",
}

VERB: Final[Mapping[ActionKind, str]] = {
    ActionKind.CREATE: "will be created",
    ActionKind.UPDATE: "will be updated in place",
    ActionKind.REPLACE: "must be replaced",
    ActionKind.DELETE: "will be destroyed",
    ActionKind.BIND_SOURCE: "will be uploaded and bound to the project",
    ActionKind.DEPLOY: "will be deployed",
    ActionKind.RENAME_DOMAIN: "will be renamed",
    ActionKind.WAIT: "will be awaited",
}

STYLE: Final[Mapping[ActionKind, str]] = {
    ActionKind.CREATE: "green",
    ActionKind.UPDATE: "yellow",
    ActionKind.REPLACE: "magenta",
    ActionKind.DELETE: "red",
    ActionKind.BIND_SOURCE: "blue",
    ActionKind.DEPLOY: "cyan",
    ActionKind.RENAME_DOMAIN: "yellow",
    ActionKind.WAIT: "blue",
}

CHANGE_SYMBOL: Final[Mapping[ChangeKind, str]] = {
    ChangeKind.ADD: "+",
    ChangeKind.REMOVE: "-",
    ChangeKind.CHANGE: "~",
}

CHANGE_STYLE: Final[Mapping[ChangeKind, str]] = {
    ChangeKind.ADD: "green",
    ChangeKind.REMOVE: "red",
    ChangeKind.CHANGE: "yellow",
}

LEGEND: Final = (
    "+ create   ~ update in place   -/+ replace   - destroy   ^ upload source   > deploy   * wait"
)


def format_value(value: DisplayValue) -> str:
    """A value as the views print it: masks as their text, everything else as JSON."""
    if isinstance(value, Mask):
        return str(value)
    return json.dumps(value, ensure_ascii=False)
