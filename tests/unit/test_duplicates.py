"""Which of two databases with one name a service uses (`state.duplicates`): a value only one
candidate has names it; values they share name no one; the most used wins, ties go to the
oldest (the first listed)."""

from __future__ import annotations

from opendeploy_plan.state.duplicates import choose, users_of

A = ("a", {"DATABASE_URL": "postgresql://u:pa@a:5432/shop", "POSTGRES_PORT": "5432"})
B = ("b", {"DATABASE_URL": "postgresql://u:pb@b:5432/shop", "POSTGRES_PORT": "5432"})


def test_a_service_uses_the_database_whose_own_values_it_carries() -> None:
    services = {
        "api": {"DATABASE_URL": "postgresql://u:pb@b:5432/shop", "POSTGRES_PORT": "5432"},
        "worker": {"POSTGRES_PORT": "5432"},  # a shared value names no one
    }
    assert users_of([A, B], services) == {"api": "b"}
    assert choose([A, B], services) == ("b", {})


def test_the_most_used_database_is_chosen_and_the_others_users_are_strays() -> None:
    on_a = {"DATABASE_URL": A[1]["DATABASE_URL"]}
    on_b = {"DATABASE_URL": B[1]["DATABASE_URL"]}
    assert choose([A, B], {"x": on_b, "y": on_b, "z": on_a}) == ("b", {"z": "a"})
    # A tie, or no user at all: the first listed (the oldest).
    assert choose([A, B], {"x": on_b, "z": on_a}) == ("a", {"x": "b"})
    assert choose([A, B], {}) == ("a", {})


def test_values_every_candidate_shares_name_no_one() -> None:
    shared_only = {"POSTGRES_PORT": "5432", "POSTGRES_USER": "u", "POSTGRES_DB": "shop"}
    a = ("a", {"DATABASE_URL": "postgresql://u:pa@a:5432/shop", **shared_only})
    b = ("b", {"DATABASE_URL": "postgresql://u:pb@b:5432/shop", **shared_only})
    assert users_of([a, b], {"worker": shared_only}) == {}
    # One service on b, one carrying only shared values: b is used, and no one is a stray.
    on_b = {"DATABASE_URL": b[1]["DATABASE_URL"], **shared_only}
    assert choose([a, b], {"api": on_b, "worker": shared_only}) == ("b", {})


def test_a_service_carrying_as_many_values_of_each_is_counted_for_the_first_listed() -> None:
    # Its URL names `a` and its host names `b`: one distinct value each, a tie inside one
    # service. The first listed (the oldest) wins, as it does between services.
    a = ("a", {"DATABASE_URL": "postgresql://u:pa@a:5432/shop", "POSTGRES_HOST": "a"})
    b = ("b", {"DATABASE_URL": "postgresql://u:pb@b:5432/shop", "POSTGRES_HOST": "b"})
    mixed = {"DATABASE_URL": a[1]["DATABASE_URL"], "POSTGRES_HOST": "b"}
    assert users_of([a, b], {"api": mixed}) == {"api": "a"}
    assert users_of([b, a], {"api": mixed}) == {"api": "b"}
