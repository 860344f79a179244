"""The write-ahead intents of `state.hints` and the attribution rules of `state.refresh` that
use them (pure; the end-to-end behaviour is in test_lost_dependency_create.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opendeploy_plan.gateway import Dependency
from opendeploy_plan.state.hints import (
    HINT_FILE,
    clear_create_intent,
    read_dependency_hints,
    read_pending_creates,
    record_create_intent,
    record_dependency_hint,
)
from opendeploy_plan.state.refresh import UnattributedDependencies, _attribute, dependency_key


def _row(dep_id: str, **extra: object) -> Dependency:
    return Dependency.model_validate({"id": dep_id, "status": "running", **extra})


def test_an_intent_is_pending_until_the_answer_replaces_it(tmp_path: Path) -> None:
    assert record_create_intent(tmp_path, "shop", "production", "db", "postgres")
    pending = read_pending_creates(tmp_path, "shop", "production")
    assert list(pending) == ["db"] and pending["db"].type == "postgres"
    assert read_dependency_hints(tmp_path, "shop", "production") == {}
    assert read_pending_creates(tmp_path, "shop", "staging") == {}

    assert record_dependency_hint(tmp_path, "shop", "production", "db", "d1")
    assert read_pending_creates(tmp_path, "shop", "production") == {}
    assert read_dependency_hints(tmp_path, "shop", "production") == {"d1": "db"}
    # Ids and types only: nothing else is ever written.
    stored = json.loads((tmp_path / HINT_FILE).read_text())
    assert stored == {"shop": {"production": {"db": "d1"}}}


def test_a_refused_create_clears_its_intent_and_keeps_other_hints(tmp_path: Path) -> None:
    record_dependency_hint(tmp_path, "shop", "production", "db", "d1")
    record_create_intent(tmp_path, "shop", "production", "cache", "redis")
    clear_create_intent(tmp_path, "shop", "production", "cache")
    clear_create_intent(tmp_path, "shop", "production", "db")  # an id, not an intent: kept
    assert read_pending_creates(tmp_path, "shop", "production") == {}
    assert read_dependency_hints(tmp_path, "shop", "production") == {"d1": "db"}


def test_an_unwritable_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / ".opendeploy").write_text("a file where the folder should be")
    assert not record_create_intent(tmp_path, "shop", "production", "db", "postgres")
    assert not record_dependency_hint(tmp_path, "shop", "production", "db", "d1")


def test_one_unknown_row_and_one_intent_is_that_intents_when_it_shows_variables() -> None:
    rows = [_row("d1"), _row("d2", env_vars={"REDIS_URL": "redis://x"})]
    named = _attribute(rows, "production", {"d1": "db"}, ["db", "cache"], ["cache"])
    assert [dependency_key(d) for d in named] == ["db", "cache"]


def test_one_unknown_row_without_variables_is_left_for_apply_to_replace() -> None:
    rows = [_row("d1"), _row("d2")]
    named = _attribute(rows, "production", {"d1": "db"}, ["db", "cache"], ["cache"])
    assert [d.id for d in named] == ["d1"]


def test_an_intent_never_names_two_unknown_rows() -> None:
    with pytest.raises(UnattributedDependencies, match="cannot tell which is which") as caught:
        _attribute(
            [_row("d1"), _row("d2")], "production", {}, ["db", "cache"], ["db"], project_id="p1"
        )
    assert "d1, d2" in caught.value.message
    assert "DELETE /v1/dependencies/p1/<id>" in caught.value.hint


def test_an_intent_whose_create_never_left_names_nothing() -> None:
    rows = [_row("d1")]
    named = _attribute(rows, "production", {"d1": "db"}, ["db", "cache"], ["cache"])
    assert [dependency_key(d) for d in named] == ["db"]
