"""The hint file's "created, not handed" entry (`state.hints`): a database apply created whose
credentials are still only in its memory keeps its intent and gains its id, until a service
holds them; then the entry is the plain id. No credential is ever written."""

from __future__ import annotations

import json
from pathlib import Path

from opendeploy_plan.state.hints import (
    HINT_FILE,
    read_dependency_hints,
    read_pending_creates,
    record_create_intent,
    record_created,
    record_handed,
    unhanded_dependencies,
)

PLACE = ("shop", "production")


def test_created_keeps_the_intent_with_the_id_until_handed(tmp_path: Path) -> None:
    assert record_create_intent(tmp_path, *PLACE, "db", "postgres")
    assert record_created(tmp_path, *PLACE, "db", "postgres", "d1")
    pending = read_pending_creates(tmp_path, *PLACE)
    assert pending["db"].id == "d1" and pending["db"].type == "postgres"
    assert unhanded_dependencies(tmp_path, *PLACE) == {"d1": "db"}
    assert read_dependency_hints(tmp_path, *PLACE) == {}  # not a plain hint yet

    record_handed(tmp_path, *PLACE, ["db", "cache"])
    assert read_pending_creates(tmp_path, *PLACE) == {}
    assert unhanded_dependencies(tmp_path, *PLACE) == {}
    assert read_dependency_hints(tmp_path, *PLACE) == {"d1": "db"}


def test_handing_over_leaves_a_lost_create_and_other_keys_alone(tmp_path: Path) -> None:
    record_create_intent(tmp_path, *PLACE, "db", "postgres")  # answer lost: no id
    record_created(tmp_path, *PLACE, "cache", "redis", "d2")
    record_handed(tmp_path, *PLACE, ["db"])
    assert read_pending_creates(tmp_path, *PLACE)["db"].id is None
    assert unhanded_dependencies(tmp_path, *PLACE) == {"d2": "cache"}
    record_handed(tmp_path, "shop", "staging", ["cache"])  # another environment
    assert unhanded_dependencies(tmp_path, *PLACE) == {"d2": "cache"}


def test_the_entry_holds_no_credential(tmp_path: Path) -> None:
    record_created(tmp_path, *PLACE, "db", "postgres", "d1")
    entry = json.loads((tmp_path / HINT_FILE).read_text())["shop"]["production"]["db"]
    assert set(entry) == {"creating", "since", "id"}
