"""Issue 14: what the documented gateway does not show is unknown, not empty. Unnamed
`{id, status}` dependency rows get their key from the hint file or by elimination (else refresh
stops); unread dependency env comes from the services' live env; service rows without
`dependencies` / `build_variables` are marked so."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from opendeploy_plan.gateway import Dependency, Service
from opendeploy_plan.plan import DesiredValue, unread_dependency_env
from opendeploy_plan.state.hints import read_dependency_hints, record_dependency_hint
from opendeploy_plan.state.refresh import (
    UnattributedDependencies,
    _attribute,
    dependency_key,
    unreturned_fields,
)


def _rows(*ids: str) -> list[Dependency]:
    return [Dependency.model_validate({"id": i, "status": "running"}) for i in ids]


def test_hinted_rows_get_their_key() -> None:
    rows = _attribute(_rows("d1", "d2"), "production", {"d1": "db", "d2": "cache"}, ["db"])
    assert [dependency_key(d) for d in rows] == ["db", "cache"]


def test_one_unnamed_row_for_one_wanted_key_is_adopted() -> None:
    rows = _attribute(_rows("d1", "d2"), "production", {"d1": "db"}, ["db", "cache"])
    assert [dependency_key(d) for d in rows] == ["db", "cache"]


def test_two_unnamed_rows_for_two_keys_stop() -> None:
    with pytest.raises(UnattributedDependencies, match="cannot tell which is which"):
        _attribute(_rows("d1", "d2"), "production", {}, ["db", "cache"])


def test_the_hint_file_round_trips_ids_only(tmp_path: Path) -> None:
    record_dependency_hint(tmp_path, "shop", "production", "db", "d1")
    record_dependency_hint(tmp_path, "shop", "staging", "db", "d9")
    assert read_dependency_hints(tmp_path, "shop", "production") == {"d1": "db"}
    assert read_dependency_hints(tmp_path, "other", "production") == {}


def test_unread_dependency_env_is_taken_from_the_live_service_env() -> None:
    live = {
        "api": {
            "DATABASE_URL": SecretStr("postgres://x"),
            "REDIS_URL": SecretStr("redis://y"),
            "LOG": SecretStr("debug"),
        }
    }
    explicit = {
        "REDIS_URL": DesiredValue.dependency("cache", "REDIS_URL"),
        "LOG": DesiredValue.literal("debug"),
    }
    env = unread_dependency_env({}, ["db", "cache"], {"api": (explicit, ["db"])}, live)
    assert {k: v.get_secret_value() for k, v in env["db"].items()} == {
        "DATABASE_URL": "postgres://x"
    }
    assert env["cache"]["REDIS_URL"].get_secret_value() == "redis://y"


def test_service_fields_the_gateway_did_not_return() -> None:
    bare = Service.model_validate({"id": "s", "name": "web"})
    assert unreturned_fields(bare) == {"dependencies", "build_variables"}
    full = Service.model_validate(
        {"id": "s", "name": "web", "dependencies": [], "build_variables": {}}
    )
    assert unreturned_fields(full) == frozenset()


def _plain(env: dict[str, dict[str, SecretStr]]) -> dict[str, dict[str, str]]:
    return {d: {k: v.get_secret_value() for k, v in values.items()} for d, values in env.items()}


def test_with_types_each_injected_key_goes_to_the_dependency_whose_type_injects_it() -> None:
    """The api uses db and cache, the worker db alone: the worker's keys are db's; the api's
    REDIS_URL is the redis's, its POSTGRES_USER the postgres's; a key no type claims (and no
    single-dependency service showed) goes nowhere."""
    live = {
        "api": {
            "DATABASE_URL": SecretStr("postgres://api"),
            "POSTGRES_USER": SecretStr("u"),
            "REDIS_URL": SecretStr("redis://c"),
            "SENTRY": SecretStr("s"),
        },
        "worker": {"DATABASE_URL": SecretStr("postgres://w")},
    }
    services = {"api": ({}, ["db", "cache"]), "worker": ({}, ["db"])}
    types = {"db": "postgres", "cache": "redis"}
    env = unread_dependency_env({}, ["db", "cache"], services, live, types=types)
    assert _plain(env) == {
        "db": {"DATABASE_URL": "postgres://api", "POSTGRES_USER": "u"},
        "cache": {"REDIS_URL": "redis://c"},
    }


def test_without_types_unknown_keys_go_to_the_dependencies_no_service_explains() -> None:
    live = {
        "api": {"DATABASE_URL": SecretStr("postgres://api"), "REDIS_URL": SecretStr("redis://c")},
        "worker": {"DATABASE_URL": SecretStr("postgres://w")},
    }
    services = {"api": ({}, ["db", "cache"]), "worker": ({}, ["db"])}
    env = unread_dependency_env({}, ["db", "cache"], services, live)
    # db's keys are known from the worker (db alone); what the api has beyond them is cache's.
    assert _plain(env) == {
        "db": {"DATABASE_URL": "postgres://api"},
        "cache": {"REDIS_URL": "redis://c"},
    }


def test_read_dependencies_and_services_without_live_env_change_nothing() -> None:
    read = {"db": {"DATABASE_URL": SecretStr("postgres://read")}}
    live = {"api": {"DATABASE_URL": SecretStr("postgres://live")}}
    services = {"api": ({}, ["db"]), "idle": ({}, ["queue"])}
    env = unread_dependency_env(read, ["queue"], services, live)
    assert _plain(env) == {"db": {"DATABASE_URL": "postgres://read"}, "queue": {}}


def test_a_key_a_known_dependency_injects_is_not_an_unread_ones() -> None:
    """`api` uses a `db` being created (or readable) and an unread `cache`: its live env still
    holds the old DATABASE_URL, which must not become the cache's (it would overwrite the new
    database's URL when api's env is rebuilt)."""
    live = {"api": {"DATABASE_URL": SecretStr("postgres://old"), "REDIS_URL": SecretStr("r://c")}}
    services = {"api": ({}, ["db", "cache"])}
    types = {"db": "postgres", "cache": "redis"}
    env = unread_dependency_env({}, ["cache"], services, live, types=types)
    assert _plain(env) == {"cache": {"REDIS_URL": "r://c"}}
    # Without types nothing says which keys are whose: the one unread dependency gets them all.
    untyped = unread_dependency_env({}, ["cache"], services, live)
    assert set(untyped["cache"]) == {"DATABASE_URL", "REDIS_URL"}
