"""Rules for dependencies (databases): create the missing, replace on a type change, a
`--replace` or a failed provisioning. Replacing a database with data needs --allow-data-loss.

A live row without a type (the documented status rows carry `{id, status}` only) is taken
as the type the manifest wants: unknown is not different.

Two live databases with one name (two applies at once): refresh manages the one the services'
env points at. A service that points at the *other* one would be re-pointed by this apply (its
data left behind): that needs --allow-data-loss too (`guard_repointing`). And whatever the
cause (rows that carry no name or variables, services split by a race), a plan that would move
a live service's connection variables to another host or database of a dependency that stays
is refused the same way (`guard_moved_connections`); a new password on the same host is not.

A dependency created or replaced here is *pending*: its `env_vars` are known after apply only,
so the services that use it see "(known after apply)".
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from pydantic import SecretStr

from opendeploy_plan.plan import addresses as addr
from opendeploy_plan.plan.desired import DependencyPart, DesiredService
from opendeploy_plan.plan.model import ActionKind, ActionReason, AttributeChange, ChangeKind
from opendeploy_plan.plan.rules.context import Draft, PlanContext, adds

__all__ = ["guard_moved_connections", "guard_repointing", "plan_dependencies"]


def plan_dependencies(ctx: PlanContext) -> None:
    guard_repointing(ctx)
    _plan_each(ctx)
    guard_moved_connections(ctx, already=_stray_services(ctx))


def _plan_each(ctx: PlanContext) -> None:
    for key in sorted(ctx.desired.dependencies):
        want = ctx.desired.dependencies[key]
        live = ctx.observed.dependencies.get(key)
        address = addr.dependency(key)
        if live is None:
            changes = adds(
                {
                    "type": want.type,
                    "template": want.template,
                    "database_name": want.database_name,
                    "username": want.username,
                }
            )
            draft = ctx.add(Draft(address, ActionKind.CREATE, ActionReason.NEW, changes))
            draft.wants.add(addr.PROJECT)
            ctx.pending_deps.add(key)
            continue
        # A row that does not say its type (documented rows are `{id, status}`) is not a
        # different type: unknown is not different.
        if live.type and live.type != want.type:
            reason = ActionReason.TYPE_CHANGED
            change = AttributeChange(
                "type", ChangeKind.CHANGE, live.type, want.type, "forces replacement"
            )
            ctx.gate_data_loss(address, "Replacing")
        elif address in ctx.replace:
            reason = ActionReason.REPLACE_REQUESTED
            change = AttributeChange("type", ChangeKind.CHANGE, live.type, want.type)
            ctx.gate_data_loss(address, "Replacing")
        elif live.status == "failed":
            reason = ActionReason.DEPENDENCY_FAILED
            change = AttributeChange("status", ChangeKind.CHANGE, "failed", "running")
        else:
            continue
        draft = ctx.add(Draft(address, ActionKind.REPLACE, reason, [change]))
        draft.wants.add(addr.PROJECT)
        ctx.pending_deps.add(key)


def guard_repointing(ctx: PlanContext) -> None:
    """A service whose env points at a duplicate database odplan does not manage would have
    its connection variables rewritten onto the managed one: refused without --allow-data-loss
    (the data the service wrote stays behind in the other database)."""
    for key, strays in sorted(ctx.observed.dependency_strays.items()):
        live = ctx.observed.dependencies.get(key)
        if live is None or key not in ctx.desired.dependencies:
            continue
        for name, dependency_id in sorted(strays.items()):
            svc = ctx.desired.services.get(name)
            if svc is None or key not in svc.uses:
                continue
            summary = (
                f"service.{name} uses database {dependency_id}, a second live {key!r}; "
                f"applying would point it at {live.id}, the one odplan manages"
            )
            detail = (
                f"The data service.{name} wrote stays in {dependency_id}. Move it and delete "
                f"one of the two databases, or pass --allow-data-loss to re-point service.{name}."
            )
            if ctx.options.allow_data_loss:
                ctx.warning(addr.service(name), summary, detail)
            else:
                ctx.error(addr.service(name), summary, detail)


def _stray_services(ctx: PlanContext) -> set[str]:
    return {name for strays in ctx.observed.dependency_strays.values() for name in strays}


def guard_moved_connections(ctx: PlanContext, already: set[str]) -> None:
    """Refuse (without --allow-data-loss) to point a live service's injected connection
    variables at another database of a dependency that is neither created nor replaced here.
    Only keys naming a database's place count (a URL's scheme, host, port and path; `*_HOST`);
    values are never shown, only key names."""
    dependency_env = ctx.dependency_env()
    for name in sorted(ctx.desired.services):
        live = ctx.observed.services.get(name)
        if live is None or name in already:
            continue
        svc = ctx.desired.services[name]
        for key in svc.uses:
            if key in ctx.pending_deps or key not in ctx.observed.dependencies:
                continue
            # A key two used dependencies both provide names neither (which one wins is the
            # injection's business, not a move).
            shared = {
                k for other in svc.uses if other != key for k in dependency_env.get(other, {})
            }
            provided = {k: v for k, v in dependency_env.get(key, {}).items() if k not in shared}
            moved = _moved_keys(svc, key, provided, live.env)
            if not moved:
                continue
            summary = (
                f"service.{name}'s {', '.join(moved)} point at another database than "
                f"dependency.{key}; applying would re-point service.{name}"
            )
            detail = (
                "Its data stays where it is now (a second database of that name, or one set by "
                "hand). Check which database holds the data; pass --allow-data-loss to "
                f"re-point service.{name} anyway."
            )
            if ctx.options.allow_data_loss:
                ctx.warning(addr.service(name), summary, detail)
            else:
                ctx.error(addr.service(name), summary, detail)


def _moved_keys(
    svc: DesiredService,
    key: str,
    provided: Mapping[str, SecretStr],
    live: Mapping[str, SecretStr],
) -> list[str]:
    """The service's env keys fed by dependency `key` whose live value names another place."""
    feeds: dict[str, str] = {k: k for k in provided if k not in svc.env}
    for env_key, value in svc.env.items():
        parts = value.parts
        ref = parts[0] if len(parts) == 1 else None
        if isinstance(ref, DependencyPart) and ref.dependency == key:
            feeds[env_key] = ref.key
    moved = []
    for env_key, source_key in sorted(feeds.items()):
        want, have = provided.get(source_key), live.get(env_key)
        if want is None or have is None:
            continue
        here = _place(env_key, have.get_secret_value())
        there = _place(env_key, want.get_secret_value())
        if here is not None and there is not None and here != there:
            moved.append(env_key)
    return moved


def _place(name: str, value: str) -> tuple[str, ...] | None:
    """Where a connection variable points (no credentials), or None when it names no place."""
    if "://" in value:
        try:
            url = urlsplit(value)
            port = str(url.port or "")
        except ValueError:
            return None
        return (url.scheme, url.hostname or "", port, url.path)
    if name.upper().endswith("_HOST"):
        return (value,)
    return None
