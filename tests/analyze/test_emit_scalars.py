"""`odplan init` writes detected values (start commands, paths, env defaults) into YAML; each
must read back as exactly the string detected, whatever its case or shape: a YAML reader turns
`Yes`, `OFF`, `True`, `~` or `8080` into booleans, nulls and numbers unless they are quoted."""

from __future__ import annotations

import pytest
import yaml

from opendeploy_plan.analyze.emit import scalar

TRICKY = [
    "yes",
    "Yes",
    "YES",
    "no",
    "NO",
    "On",
    "OFF",
    "True",
    "false",
    "FALSE",
    "null",
    "Null",
    "NONE",
    "~",
    "y",
    "N",
    "8080",
    "1.5",
    "0x1F",
    "1e3",
    "",
    " lead",
    "trail ",
    "a: b",
    "#x",
    "- item",
    "[x]",
    "{y}",
    "*alias",
    "&anchor",
    "!tag",
    "'q'",
    '"dq"',
    "%p",
    "@at",
    "`bt`",
]
PLAIN = ["web", "Dockerfile", "node_modules", "yes-please", "apps/web", "v1.2", "a@b+c"]
SPACED = ["npm start", "python app.py", "/health"]


@pytest.mark.parametrize("value", TRICKY + PLAIN + SPACED)
def test_a_written_scalar_reads_back_as_the_same_string(value: str) -> None:
    assert yaml.safe_load(f"key: {scalar(value)}\n") == {"key": value}


@pytest.mark.parametrize("value", ["Yes", "NO", "Off", "True", "Null", "~"])
def test_yaml_words_are_quoted_in_any_case(value: str) -> None:
    assert scalar(value) == f'"{value}"'


@pytest.mark.parametrize("value", PLAIN)
def test_plain_values_stay_plain(value: str) -> None:
    assert scalar(value) == value
