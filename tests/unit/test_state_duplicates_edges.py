"""Which of several same-named databases a service uses (`state.duplicates`): with three
candidates a value only one holds still names it, an empty value names nothing, and the
services using another database are listed by name."""

from __future__ import annotations

from opendeploy_plan.state.duplicates import choose, users_of

A = ("d1", {"HOST": "h1", "PASSWORD": "", "PORT": "5432"})
B = ("d2", {"HOST": "h2", "PASSWORD": "p2", "PORT": "5432"})
C = ("d3", {"HOST": "h3", "PASSWORD": "p3", "PORT": "5432"})


def test_with_three_candidates_a_value_only_one_holds_names_it() -> None:
    services = {"web": {"HOST": "h3", "PORT": "5432"}, "api": {"PORT": "5432"}}
    assert users_of([A, B, C], services) == {"web": "d3"}
    assert choose([A, B, C], services) == ("d3", {})


def test_an_empty_value_names_no_candidate() -> None:
    services = {"web": {"PASSWORD": "", "PORT": "5432"}}
    assert users_of([A, B], services) == {}
    assert choose([A, B], services) == ("d1", {})


def test_services_on_another_database_are_listed_by_name() -> None:
    services = {
        "zeta": {"HOST": "h2"},
        "web": {"HOST": "h1"},
        "alpha": {"HOST": "h2"},
        "api": {"HOST": "h1"},
        "mid": {"HOST": "h1"},
    }
    chosen, strays = choose([A, B], services)
    assert chosen == "d1"
    assert list(strays.items()) == [("alpha", "d2"), ("zeta", "d2")]
