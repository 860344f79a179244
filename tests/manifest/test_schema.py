"""The JSON Schema: generated from the models, committed, printed by `odplan schema`."""

from __future__ import annotations

import json

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner

from opendeploy_plan.cli import main
from opendeploy_plan.manifest.schema import SCHEMA_PATH, manifest_json_schema_text

from .conftest import REPO


def test_the_committed_schema_is_current() -> None:
    committed = (REPO / SCHEMA_PATH).read_text(encoding="utf-8")
    assert committed == manifest_json_schema_text(), (
        f"{SCHEMA_PATH} is stale: run `odplan schema > {SCHEMA_PATH}`"
    )


def test_odplan_schema_prints_it() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    assert result.stdout == manifest_json_schema_text()


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(manifest_json_schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(manifest_json_schema_text()))


@pytest.mark.parametrize(
    "document",
    [
        {"version": 1, "project": {"name": "x"}, "servics": {}},
        {"version": 2, "project": {"name": "x"}},
        {"version": 1, "project": {"name": "X"}},
        {"version": 1, "project": {"name": "x"}, "services": {"web": {"port": 0}}},
        {"version": 1, "project": {"name": "x"}, "dependencies": {"db": {"type": "oracle"}}},
        {"version": 1, "project": {"name": "x"}, "environments": {"qa": {}}},
        {"version": 1, "project": {"name": "x"}, "environments": {"staging": {"version": 2}}},
    ],
)
def test_editors_flag_what_validate_rejects(document: dict[str, object]) -> None:
    assert list(_validator().iter_errors(document))


def test_overlays_need_no_required_fields_and_may_remove_with_null() -> None:
    document = {
        "version": 1,
        "project": {"name": "x"},
        "dependencies": {"db": {"type": "postgres"}},
        "environments": {
            "staging": {
                "project": {"description": "staging"},
                "dependencies": {"db": {"template": "postgres-15"}},
                "services": {"web": None},
            }
        },
    }
    assert not list(_validator().iter_errors(document))
