"""A deployment is watched at the documented pace: `GET /v1/deployments/:id` no faster than
every 2 s, while the end of the log stream (the gateway closes it when the deployment is
terminal) still gets the terminal state noticed within moments."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.apply.rig import rig

SOLO = """\
version: 1
project:
  name: tiny
services:
  web:
    type: web
    source: web
    language: python
    port: 8080
    dockerfile: Dockerfile
"""

PHASES = {
    "pending_seconds": 1.0,
    "analyze_seconds": 1.0,
    "build_seconds": 4.0,
    "deploy_seconds": 2.0,
}


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_a_deployment_is_polled_every_2s_or_slower_and_its_end_noticed_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path, monkeypatch, SOLO, **PHASES) as gw:
        gets: list[float] = []

        async def note(_match: object) -> None:
            gets.append(time.time())

        gw.tamper.before("GET", "/api/v1/deployments/[^/]+", note, count=None)

        applied = gw.apply()
        assert applied.exit_code == 0, applied.output

        async def read() -> tuple[float, float]:
            async with gw.client() as client:
                (deployment,) = await client.list_deployments()
                assert deployment.completed_at, deployment
                return _epoch(deployment.created_at), _epoch(deployment.completed_at)

        created, completed = asyncio.run(read())
        duration = completed - created
        assert duration >= 6.0
        assert len(gets) <= math.ceil(duration / 2) + 2, (len(gets), duration)
        gaps = [b - a for a, b in itertools.pairwise(gets)]
        # Polls are 2 s apart; only the wake-up at the stream's end may come sooner.
        assert sum(1 for gap in gaps if gap < 1.9) <= 1, gaps
        noticed = min(t for t in gets if t >= completed)
        assert noticed - completed <= 0.5 + 0.5, noticed - completed  # +0.5 s: a shared CI box
