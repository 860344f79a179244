"""Create-or-find, alone: an unknown outcome or a 409 is answered by looking, never by a blind
second create. (End to end, per resource, in tests/apply/test_handler_faults.py.)"""

from __future__ import annotations

import pytest

from opendeploy_plan.apply.reconcile import CREATE_ATTEMPTS, create_or_find
from opendeploy_plan.gateway import Conflict, GatewayError, OutcomeUnknown

pytestmark = pytest.mark.anyio


def _unknown() -> OutcomeUnknown:
    return OutcomeUnknown(
        "lost", method="POST", path="/v1/x", cause=GatewayError("connection reset")
    )


class Platform:
    """Creates succeed or fail as scripted; `made` is what really exists."""

    def __init__(self, *outcomes: str) -> None:
        self.outcomes = list(outcomes)
        self.made: list[str] = []
        self.creates = 0
        self.finds = 0

    async def create(self) -> str:
        self.creates += 1
        outcome = self.outcomes.pop(0)
        if outcome == "lost":  # performed, answer lost
            self.made.append("row")
            raise _unknown()
        if outcome == "failed":  # not performed, answer lost
            raise _unknown()
        if outcome == "conflict":
            raise Conflict(status_code=409, reason="exists", method="POST", path="/v1/x")
        self.made.append("row")
        return "row"

    async def find(self) -> str | None:
        self.finds += 1
        return self.made[0] if self.made else None


async def test_a_lost_response_is_found_not_repeated() -> None:
    platform = Platform("lost")
    assert await create_or_find(platform.create, platform.find) == "row"
    assert (platform.creates, platform.made) == (1, ["row"])


async def test_three_tries_while_nothing_was_made() -> None:
    platform = Platform("failed", "failed", "ok")
    assert await create_or_find(platform.create, platform.find) == "row"
    assert platform.creates == CREATE_ATTEMPTS == 3
    assert platform.finds == 2


async def test_gives_up_with_the_unknown_outcome_after_three() -> None:
    platform = Platform("failed", "failed", "failed", "ok")
    with pytest.raises(OutcomeUnknown):
        await create_or_find(platform.create, platform.find)
    assert platform.creates == 3


async def test_a_conflict_adopts_what_exists_or_is_raised() -> None:
    platform = Platform("conflict")
    platform.made.append("theirs")
    assert await create_or_find(platform.create, platform.find) == "theirs"
    with pytest.raises(Conflict):
        await create_or_find(Platform("conflict").create, Platform().find)


async def test_look_first_adopts_without_creating() -> None:
    platform = Platform("ok")
    platform.made.append("existing")
    assert await create_or_find(platform.create, platform.find, look_first=True) == "existing"
    assert platform.creates == 0
    fresh = Platform("ok")
    assert await create_or_find(fresh.create, fresh.find, look_first=True) == "row"
    assert (fresh.finds, fresh.creates) == (1, 1)
