"""Shared helpers for the gateway tests: a fast client for the live gateway and its admin API."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import httpx

from opendeploy_plan.gateway import GatewayClient, RetryPolicy

FAST = RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.01, server_error_delay=0.001)


def client_for(live: Any, token: str | None = None, **kwargs: Any) -> GatewayClient:
    kwargs.setdefault("retry", FAST)
    return GatewayClient(live.base_url, token or live.dashboard_token, **kwargs)


def admin(live: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the emulator's admin API (`/_emulator/...`) over real HTTP."""
    response = httpx.request(method, f"{live.root_url}/_emulator/{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def make_zip(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    archive = tmp_path / "source.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in (
            files or {"Dockerfile": "FROM scratch\n", "app.py": "print(1)\n"}
        ).items():
            zf.writestr(name, text)
    return archive
