"""Which of two databases with one name a service actually uses: its injected env says so.

Two applies at once can each create a `db` (the platform does not keep dependency names
unique). Each database hands out its own connection variables (`DATABASE_URL`, `REDIS_URL`,
host, password…), and a service that uses one carries those values in its runtime env. A value
only one candidate has (its host, its password, its URL) names that candidate; values they share
(port, user, database name) say nothing. Refresh adopts the candidate the services use, and apply
uses the same rule to tell whether a database it just created is already in use.

Pure functions over plain strings: callers unwrap their secrets, nothing here prints a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["Candidate", "choose", "users_of"]

# (dependency id, its connection variables)
Candidate = tuple[str, Mapping[str, str]]


def users_of(
    candidates: Sequence[Candidate], services: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """`{service name: candidate id}` for every service whose env carries a value that exactly
    one candidate has (the candidate with the most such values when it somehow holds several)."""
    distinct = [
        (
            cid,
            {
                key: value
                for key, value in env.items()
                if value and sum(1 for _, other in candidates if other.get(key) == value) == 1
            },
        )
        for cid, env in candidates
    ]
    users: dict[str, str] = {}
    for name, env in services.items():
        best, hits = "", 0
        for cid, values in distinct:
            count = sum(1 for key, value in values.items() if env.get(key) == value)
            if count > hits:
                best, hits = cid, count
        if hits:
            users[name] = best
    return users


def choose(
    candidates: Sequence[Candidate], services: Mapping[str, Mapping[str, str]]
) -> tuple[str, dict[str, str]]:
    """The candidate to manage and the services that use another one (`{service: id}`).

    The one most services use wins; when none is used (or a tie), the first listed (the oldest:
    the gateway lists by creation), which is what apply's finder adopts too."""
    users = users_of(candidates, services)
    counts = {cid: 0 for cid, _ in candidates}
    for cid in users.values():
        counts[cid] += 1
    # max() keeps the first of equal counts: ties go to the oldest.
    chosen = max(counts, key=lambda cid: counts[cid])
    strays = {name: cid for name, cid in sorted(users.items()) if cid != chosen}
    return chosen, strays
