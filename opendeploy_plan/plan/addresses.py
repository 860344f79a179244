"""Plan addresses: `project`, `project.source`, `dependency.<key>`, `service.<name>`,
`service.<name>.env`, `service.<name>.deployment`, `service.<name>.domain`.

An address pattern given to `--target`/`--exclude` matches itself and every address below it
(`service.web` matches `service.web.env`). `service.<name>.source` is accepted as an alias of
`project.source`: one archive is bound per project, before any of its services deploys.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

PROJECT: Final = "project"
PROJECT_SOURCE: Final = "project.source"

_ADDRESS_RE: Final = re.compile(
    r"^(project(\.source)?|dependency\.[^.\s]+|service\.[^.\s]+(\.(env|deployment|domain|source))?)$"
)


def dependency(key: str) -> str:
    return f"dependency.{key}"


def service(name: str) -> str:
    return f"service.{name}"


def service_env(name: str) -> str:
    return f"service.{name}.env"


def service_deployment(name: str) -> str:
    return f"service.{name}.deployment"


def service_domain(name: str) -> str:
    return f"service.{name}.domain"


def is_valid(address: str) -> bool:
    """True when `address` has one of the documented shapes."""
    return bool(_ADDRESS_RE.match(address))


def canonical(address: str) -> str:
    """Resolve aliases: `service.<name>.source` → `project.source`."""
    if address.startswith("service.") and address.endswith(".source"):
        return PROJECT_SOURCE
    return address


def matches(address: str, pattern: str) -> bool:
    """True when `address` is `pattern` or lies below it."""
    pattern = canonical(pattern)
    return address == pattern or address.startswith(pattern + ".")


def service_name(address: str) -> str | None:
    """The service an address belongs to, or None."""
    if not address.startswith("service."):
        return None
    return address.split(".")[1]


class ResourceKind(StrEnum):
    """What an address names: apply picks its handler by it (and ordering can key on it)."""

    PROJECT = "project"
    SOURCE = "source"
    DEPENDENCY = "dependency"
    SERVICE = "service"
    ENV = "env"
    DEPLOYMENT = "deployment"
    DOMAIN = "domain"


def resource_kind(address: str) -> ResourceKind | None:
    """The kind of a canonical address (`service.web.env` → ENV), or None for any other text.

    Aliases are not resolved here: pass `canonical(address)` when the text came from a user."""
    if not is_valid(address):
        return None
    if address == PROJECT:
        return ResourceKind.PROJECT
    if address == PROJECT_SOURCE:
        return ResourceKind.SOURCE
    parts = address.split(".")
    if parts[0] == "dependency":
        return ResourceKind.DEPENDENCY
    if len(parts) == 2:
        return ResourceKind.SERVICE
    return {
        "env": ResourceKind.ENV,
        "deployment": ResourceKind.DEPLOYMENT,
        "domain": ResourceKind.DOMAIN,
    }.get(parts[2])


def resource_name(address: str) -> str | None:
    """The manifest name an address is about: the dependency key or the service name."""
    kind = resource_kind(address)
    if kind is None or kind in (ResourceKind.PROJECT, ResourceKind.SOURCE):
        return None
    return address.split(".")[1]
