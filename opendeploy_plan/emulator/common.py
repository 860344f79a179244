"""Small shared helpers of the simulated platform: timestamps, token hashing, path cleaning."""

from __future__ import annotations

import hashlib
import posixpath
import secrets
import string
from datetime import UTC, datetime

from opendeploy_plan import platform
from opendeploy_plan.emulator.errors import PlatformError

BASE62 = string.digits + string.ascii_letters


def ts(value: float) -> str:
    """A clock instant as the gateway's RFC 3339 timestamp (microseconds, `Z`)."""
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339(value: float | None) -> str | None:
    return None if value is None else ts(value)


def parse_rfc3339(text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise PlatformError(400, f"invalid since timestamp {text!r}: use RFC3339") from exc


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(kind: str) -> str:
    return f"od_{kind}" + "".join(secrets.choice(BASE62) for _ in range(platform.TOKEN_BODY_CHARS))


def random_secret(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def clean_path(path: str) -> str:
    cleaned = posixpath.normpath(path.strip().strip("/")) if path.strip().strip("/") else ""
    return "" if cleaned == "." else cleaned
