"""One handler per resource kind, each `apply(context, action)`, chosen by the address's kind.

Adding a resource kind: a `ResourceKind` in plan/addresses.py, a module here with `apply`, and
one line in `HANDLERS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from opendeploy_plan.apply.context import ApplyContext
from opendeploy_plan.apply.errors import ApplyError
from opendeploy_plan.apply.handlers import (
    dependency,
    deployment,
    domain,
    env,
    project,
    service,
    source,
)
from opendeploy_plan.plan import PlannedAction
from opendeploy_plan.plan.addresses import ResourceKind, resource_kind

__all__ = ["HANDLERS", "Handler", "handler_for"]

Handler = Callable[[ApplyContext, PlannedAction], Awaitable[None]]

HANDLERS: Mapping[ResourceKind, Handler] = {
    ResourceKind.PROJECT: project.apply,
    ResourceKind.SOURCE: source.apply,
    ResourceKind.DEPENDENCY: dependency.apply,
    ResourceKind.SERVICE: service.apply,
    ResourceKind.ENV: env.apply,
    ResourceKind.DEPLOYMENT: deployment.apply,
    ResourceKind.DOMAIN: domain.apply,
}


def handler_for(address: str) -> Handler:
    """The handler of the address's resource kind; an unknown address is an ApplyError."""
    kind = resource_kind(address)
    handler = HANDLERS.get(kind) if kind is not None else None
    if handler is None:
        raise ApplyError(f"don't know how to apply {address}")
    return handler
