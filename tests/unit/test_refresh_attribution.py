"""Refresh's attribution of database rows to manifest keys, unit by unit: the documented status
rows are `{id, status}` and do not say which database they are, so refresh names them from the
hint file, from a lost create's intent, or by elimination, and stops when it cannot tell.
(The gateway reads around these rules are tested end to end; these are the rules themselves.)"""

from __future__ import annotations

import pytest

from opendeploy_plan.gateway import Dependency, Service
from opendeploy_plan.state.refresh import (
    UnattributedDependencies,
    _attribute,
    _databases,
    is_named,
    unattributed,
    unreturned_fields,
)


def _db(id_: str, env_vars: dict[str, str] | None = None, **fields: str) -> Dependency:
    return Dependency.model_validate({"id": id_, "env_vars": env_vars or {}, **fields})


def _names(rows: list[Dependency]) -> dict[str, str]:
    return {d.id: d.display_name for d in rows}


DSN = {"DATABASE_URL": "postgres://u:p@h/db"}


def test_a_row_is_named_by_any_of_its_three_name_fields() -> None:
    assert not is_named(_db("d1"))
    assert is_named(_db("d1", display_name="db"))
    assert is_named(_db("d1", name="db"))
    assert is_named(_db("d1", dependency_id="postgres"))


def test_rows_that_say_their_name_are_returned_as_they_are() -> None:
    rows = [_db("d1", display_name="db"), _db("d2", name="cache")]
    assert _attribute(rows, "production", {"d1": "other"}, ["db", "cache"]) == rows


def test_the_hint_file_names_an_unnamed_row_and_never_renames_a_named_one() -> None:
    """Two unnamed rows: only the hints can tell them apart (elimination could not)."""
    rows = [_db("d1"), _db("d2"), _db("d3", display_name="cache")]
    hints = {"d1": "db", "d2": "queue", "d3": "wrong"}
    named = _attribute(rows, "production", hints, ["db", "queue", "cache"])
    assert _names(named) == {"d1": "db", "d2": "queue", "d3": "cache"}
    assert all(is_named(d) for d in named)


def test_unnamed_rows_of_another_environment_are_left_alone() -> None:
    rows = [_db("d1", environment="staging"), _db("d2", display_name="db")]
    assert _attribute(rows, "production", {}, ["db", "cache"]) == rows


def test_a_lost_create_adopts_the_one_unnamed_row() -> None:
    rows = [_db("d1", DSN), _db("d2", display_name="cache")]
    named = _attribute(rows, "production", {}, ["db", "cache"], pending=["db"])
    assert _names(named) == {"d1": "db", "d2": "cache"}
    assert named[0].env_vars == DSN


def test_one_unnamed_row_and_two_lost_creates_cannot_be_told_apart() -> None:
    """Two creates lost their answers and one row came up: it may be either, so stop rather
    than hand `db`'s credentials to the users of `cache` (or the other way round)."""
    with pytest.raises(UnattributedDependencies, match=r"\(d1\) and the manifest wants cache, db"):
        _attribute([_db("d1", DSN)], "production", {}, ["db", "cache"], pending=["db", "cache"])


def test_a_lost_create_whose_variables_are_not_shown_is_left_out() -> None:
    """No service got its credentials and they cannot be read: apply creates it again."""
    lost, kept = _db("d1"), _db("d2", display_name="cache")
    assert _attribute([lost, kept], "production", {}, ["db", "cache"], pending=["db"]) == [kept]


def test_a_pending_key_already_on_a_row_is_no_lost_create() -> None:
    """`db` is named already: the unnamed row is settled by elimination (`cache` is left)."""
    rows = [_db("d1", DSN), _db("d2", display_name="db")]
    named = _attribute(rows, "production", {}, ["db", "cache"], pending=["db"])
    assert _names(named) == {"d1": "cache", "d2": "db"}


def test_one_unnamed_row_and_one_key_left_are_matched_by_elimination() -> None:
    rows = [_db("d1", DSN), _db("d2", display_name="cache")]
    named = _attribute(rows, "production", {}, ["cache", "db"])
    assert _names(named) == {"d1": "db", "d2": "cache"}


def test_a_row_of_this_environment_is_matched_and_one_of_another_is_not() -> None:
    here = _db("d1", DSN, environment="production")
    there = _db("d2", DSN, environment="staging")
    named = _attribute([here, there], "production", {}, ["db"])
    assert _names(named) == {"d1": "db", "d2": ""}


def test_the_stop_without_a_project_names_its_placeholder() -> None:
    with pytest.raises(UnattributedDependencies) as stop:
        _attribute([_db("d1"), _db("d2")], "production", {}, ["db"])
    assert "DELETE /v1/dependencies/<project_id>/<id>" in stop.value.hint


def test_nothing_wanted_or_nothing_left_leaves_unnamed_rows_unnamed() -> None:
    rows = [_db("d1", DSN), _db("d2", display_name="db")]
    assert _attribute(rows, "production", {}, []) == rows
    assert _attribute(rows, "production", {}, ["db"]) == rows


def test_two_unnamed_rows_for_one_key_stop_with_the_ids_and_the_keys() -> None:
    rows = [_db("d1", DSN), _db("d2", DSN), _db("d3", display_name="cache")]
    with pytest.raises(UnattributedDependencies) as stop:
        _attribute(rows, "production", {}, ["db", "cache"], project_id="p-9")
    assert str(stop.value) == (
        "the gateway lists 2 database(s) without a name (d1, d2) and the manifest wants db: "
        "odplan cannot tell which is which (nothing was changed)"
    )
    assert "DELETE /v1/dependencies/p-9/<id>" in stop.value.hint


def test_one_unnamed_row_and_two_keys_left_stop_too() -> None:
    with pytest.raises(UnattributedDependencies, match=r"\(d1\) and the manifest wants cache, db"):
        _attribute([_db("d1", DSN)], "production", {}, ["db", "cache"])


def test_a_lost_create_among_two_unnamed_rows_names_the_intent_in_the_stop() -> None:
    rows = [_db("d1", DSN), _db("d2", DSN)]
    with pytest.raises(UnattributedDependencies, match=r"wants cache, db:"):
        _attribute(rows, "production", {}, ["cache"], pending=["db"])


def test_the_stop_says_how_to_settle_it() -> None:
    error = unattributed("p-1", ["d1"], [])
    assert "wants none of them" in str(error)
    assert "(d1)" in str(error) and "1 database(s)" in str(error)
    assert error.hint.startswith("Write the hint by hand in ")
    assert "), or run `odplan import`; or delete the database(s) that are not yours" in error.hint
    assert 'e.g. {"<project>": {"<environment>": {"db": "<id>"}}}' in error.hint
    assert "DELETE /v1/dependencies/p-1/<id>" in error.hint


def test_the_fields_a_service_row_came_back_without() -> None:
    bare = Service.model_validate({"id": "s1", "name": "web"})
    assert unreturned_fields(bare) == {"dependencies", "build_variables"}
    full = Service.model_validate(
        {"id": "s1", "name": "web", "dependencies": [], "build_variables": {}}
    )
    assert unreturned_fields(full) == frozenset()
    assert unreturned_fields(Service.model_validate({"id": "s1", "dependencies": None})) == {
        "build_variables"
    }


def test_two_rows_of_one_name_manage_the_one_the_services_use() -> None:
    single = _db("d0", display_name="cache")  # listed first: the rows after it still count
    a = _db("d1", {"DATABASE_URL": "postgres://a"}, display_name="db")
    b = _db("d2", {"DATABASE_URL": "postgres://b"}, display_name="db")
    other = _db("d3", display_name="db", environment="staging")
    users = {"web": {"DATABASE_URL": "postgres://b"}}
    databases, duplicates, strays = _databases([single, a, b, other], "production", users)
    assert databases == {"cache": single, "db": b}
    assert duplicates == {"db": ("d2", "d1")}
    assert strays == {}


def test_services_split_between_two_rows_of_one_name_are_named_as_strays() -> None:
    a = _db("d1", {"DATABASE_URL": "postgres://a"}, display_name="db")
    b = _db("d2", {"DATABASE_URL": "postgres://b"}, display_name="db")
    users = {
        "web": {"DATABASE_URL": "postgres://b"},
        "api": {"DATABASE_URL": "postgres://b"},
        "worker": {"DATABASE_URL": "postgres://a"},
    }
    databases, duplicates, strays = _databases([a, b], "production", users)
    assert databases == {"db": b}
    assert duplicates == {"db": ("d2", "d1")}
    assert strays["db"] and set(strays["db"]) == {"worker"}


# A database a run created and stopped before any service got its credentials (`unhanded`,
# `{id: key}` from the hint file): known by its id, adopted when its variables can be read,
# else left out so that apply recreates it.


def test_an_unhanded_row_whose_variables_cannot_be_read_is_left_out() -> None:
    rows = _attribute(
        [_db("d1"), _db("d2")],
        "production",
        {"d2": "cache"},
        ["db", "cache"],
        ["db"],
        unhanded={"d1": "db"},
    )
    assert _names(rows) == {"d2": "cache"}


def test_an_unhanded_row_whose_variables_can_be_read_is_adopted_by_its_id() -> None:
    rows = _attribute(
        [_db("d1", DSN)], "production", {}, ["db", "cache"], ["db"], unhanded={"d1": "db"}
    )
    assert _names(rows) == {"d1": "db"}
    assert rows[0].env_vars


def test_a_row_that_says_its_name_keeps_it_even_when_unhanded() -> None:
    rows = _attribute(
        [_db("d1", DSN, display_name="main")], "production", {}, [], ["db"], unhanded={"d1": "db"}
    )
    assert _names(rows) == {"d1": "main"}


def test_two_unhanded_databases_are_told_apart_by_their_ids() -> None:
    rows = _attribute(
        [_db("d1", DSN), _db("d2", {"REDIS_URL": "redis://h"})],
        "production",
        {},
        ["db", "cache"],
        ["db", "cache"],
        unhanded={"d1": "db", "d2": "cache"},
    )
    assert _names(rows) == {"d1": "db", "d2": "cache"}


def test_an_unhanded_intent_does_not_claim_a_stranger_row() -> None:
    # Our unhanded database is gone; an unnamed row is someone else's, not our lost create.
    with pytest.raises(UnattributedDependencies):
        _attribute([_db("d9"), _db("d8")], "production", {}, ["db"], ["db"], unhanded={"d1": "db"})
    rows = _attribute([_db("d9")], "production", {}, ["db"], ["db"], unhanded={"d1": "db"})
    assert _names(rows) == {"d9": "db"}  # by elimination, as for any unnamed row, not as lost


def test_a_reader_that_changes_nothing_names_the_unhanded_row() -> None:
    rows = _attribute(
        [_db("d1")],
        "production",
        {},
        ["db"],
        ["db"],
        unhanded={"d1": "db"},
        recreate_unhanded=False,
    )
    assert _names(rows) == {"d1": "db"}
