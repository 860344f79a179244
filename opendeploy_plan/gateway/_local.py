"""The seam for `--gateway local`: what a caller hands in to reach an in-process gateway.

The gateway package never imports the emulator; the CLI (through `engine.local_gateway`)
provides a `LocalGateway` that starts one and answers with its transport and a token minter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx


@dataclass(frozen=True)
class LocalEndpoint:
    """A running in-process gateway: where requests go, and how to mint a dashboard token."""

    transport: httpx.AsyncBaseTransport
    mint_token: Callable[[], str]


class LocalGateway(Protocol):
    """Starts an in-process gateway keeping its files in `data_dir` (private, already made).

    `overrides` are configuration values for the gateway (e.g. phase timings in tests).
    """

    def __call__(
        self, data_dir: Path, overrides: Mapping[str, Any] | None
    ) -> AbstractAsyncContextManager[LocalEndpoint]: ...
