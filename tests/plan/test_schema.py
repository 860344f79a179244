"""`schemas/plan.schema.json` is generated from the models and describes `--json` output."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from opendeploy_plan.plan import make_plan, plan_json
from opendeploy_plan.plan.document import schema_text
from tests.plan.golden import case_paths, load_case

SCHEMA_PATH = Path(__file__).parents[2] / "schemas" / "plan.schema.json"


def test_the_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text() == schema_text(), (
        "regenerate: python -m opendeploy_plan.plan.document > schemas/plan.schema.json"
    )


@pytest.mark.parametrize("path", case_paths()[::5], ids=lambda p: p.stem)
def test_json_output_validates_against_the_schema(path: Path) -> None:
    case = load_case(path)
    document = json.loads(plan_json(make_plan(case.desired, case.observed, case.options)))
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))
    assert document["format_version"] == 1
