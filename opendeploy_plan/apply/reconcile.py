"""Create-or-find: the one place where a create whose outcome is unknown is reconciled.

Creates are never blindly repeated: when a create's outcome is unknown (lost response, 5xx),
the resource is looked up by name (or, for deployments, by this run's id in the description)
before trying again, so a crash or a flaky network never duplicates anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from opendeploy_plan.gateway import Conflict, OutcomeUnknown

T = TypeVar("T")

__all__ = ["CREATE_ATTEMPTS", "create_or_find"]

# A create is tried at most this often while each try's outcome stays unknown.
CREATE_ATTEMPTS = 3


async def create_or_find(
    create: Callable[[], Awaitable[T]],
    find: Callable[[], Awaitable[T | None]],
    *,
    look_first: bool = False,
    attempts: int = CREATE_ATTEMPTS,
) -> T:
    """Create; when the outcome is unknown, look for what the create may have made first.

    A 409 (the name exists) is answered the same way: another apply of the same manifest made
    it since this plan was refreshed, so it is adopted (and then read back like a create).
    `look_first` looks before the first create too, for resources the platform does not keep
    unique by name (databases): a second apply must adopt, not add."""
    if look_first:
        found = await find()
        if found is not None:
            return found
    last: OutcomeUnknown | None = None
    for _ in range(attempts):
        try:
            return await create()
        except OutcomeUnknown as exc:
            last = exc
            found = await find()
            if found is not None:
                return found
        except Conflict:
            found = await find()
            if found is not None:
                return found
            raise
    assert last is not None
    raise last
