"""Attribute diffs: service settings (quantities compared by value) and variable maps.

Pure helpers for the planner. They return display-safe `AttributeChange`s: a value is shown only
when the manifest declares it as a plain literal; everything else is masked.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from opendeploy_plan.plan.desired import DependencyPart, DesiredService, DesiredValue
from opendeploy_plan.plan.model import AttributeChange, ChangeKind, DisplayValue, Mask
from opendeploy_plan.plan.settings import PLATFORM_DEFAULTS, settings_diff
from opendeploy_plan.state.model import ObservedService


def _live_value(live: ObservedService, name: str) -> object:
    """The live value as shown in a plan: an empty field as the platform's default."""
    value = getattr(live, name)
    return PLATFORM_DEFAULTS.get(name) if value is None else value


def desired_settings(service: DesiredService) -> dict[str, object]:
    """Managed service-row fields, plus `dependencies` (the sibling services from `after`)."""
    settings: dict[str, object] = dict(service.settings())
    settings["dependencies"] = list(service.after)
    return settings


def diff_settings(desired: DesiredService, live: ObservedService) -> list[AttributeChange]:
    """Changes to the managed fields of an existing service row (unset fields are skipped),
    compared by the one rule apply's read-back uses too (`plan.settings.settings_diff`)."""
    want = desired_settings(desired)
    for name in live.unread_fields & set(want):
        del want[name]  # not returned by the gateway: unknown is not different
    have = {name: _live_value(live, name) for name in want}
    return [
        AttributeChange(
            path=name,
            kind=ChangeKind.CHANGE,
            before=_plain(have[name]),
            after=_plain(want[name]),
        )
        for name in settings_diff(want, have)
    ]


def _plain(value: object) -> DisplayValue:
    if isinstance(value, tuple | list):
        return list(value)
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


@dataclass(frozen=True)
class WantedValue:
    """A variable's resolved value (None when only known after apply) and how to show it."""

    value: str | None
    display: DisplayValue


def wanted_variables(
    explicit: Mapping[str, DesiredValue],
    uses: Collection[str],
    dependency_env: Mapping[str, Mapping[str, SecretStr]],
) -> tuple[dict[str, WantedValue], list[str]]:
    """The variables a service should have: each used dependency's `env_vars`, then the
    manifest's own values on top. Returns them with the used dependencies whose variables are
    not known yet (absent from `dependency_env`)."""
    wanted: dict[str, WantedValue] = {}
    pending: list[str] = []
    for dep in uses:
        variables = dependency_env.get(dep)
        if variables is None:
            pending.append(dep)
            continue
        for key, secret in variables.items():
            wanted[key] = WantedValue(secret.get_secret_value(), Mask.SENSITIVE)
    for key, value in explicit.items():
        resolved = value.resolve(dependency_env)
        if resolved is None:
            wanted[key] = WantedValue(None, Mask.UNKNOWN)
        elif value.is_literal:
            wanted[key] = WantedValue(resolved, resolved)
        else:
            wanted[key] = WantedValue(resolved, Mask.SENSITIVE)
    return wanted, pending


def pending_block_path(prefix: str, dependency: str) -> str:
    """The change path standing for all variables a not-yet-known dependency will provide."""
    return f"{prefix}." + "${{ dependencies." + f"{dependency}.*" + " }}"


def diff_variables(
    prefix: Literal["env", "build_env"],
    wanted: Mapping[str, WantedValue],
    pending: Collection[str],
    live: Mapping[str, SecretStr],
    policy: Literal["replace", "merge"],
    provided_by_pending: Mapping[str, str],
) -> list[AttributeChange]:
    """Changes from `live` to `wanted`. With `replace`, live keys the manifest lacks are shown
    as removals (the platform replaces env in full); `merge` keeps them. `provided_by_pending`
    maps a live key to the pending dependency expected to provide it again."""
    changes: list[AttributeChange] = []
    for key in sorted(wanted):
        want = wanted[key]
        have = live.get(key)
        path = f"{prefix}.{key}"
        if have is None:
            changes.append(AttributeChange(path, ChangeKind.ADD, None, want.display))
        elif want.value is None:
            changes.append(AttributeChange(path, ChangeKind.CHANGE, Mask.SENSITIVE, want.display))
        elif want.value != have.get_secret_value():
            # Live values are never shown: with no state file, odplan cannot know whether a
            # value now literal in the manifest was a secret (or a dependency's password) live.
            changes.append(AttributeChange(path, ChangeKind.CHANGE, Mask.SENSITIVE, want.display))
    if policy == "replace":
        for key in sorted(set(live) - set(wanted)):
            path = f"{prefix}.{key}"
            source = provided_by_pending.get(key)
            if source is not None:
                note = f"expected again from dependency.{source}"
                changes.append(
                    AttributeChange(path, ChangeKind.CHANGE, Mask.SENSITIVE, Mask.UNKNOWN, note)
                )
            else:
                note = "not in the manifest: removed (env_policy: replace)"
                changes.append(AttributeChange(path, ChangeKind.REMOVE, Mask.SENSITIVE, None, note))
    for dep in sorted(pending):
        note = f"every variable dependency.{dep} provides"
        changes.append(
            AttributeChange(
                pending_block_path(prefix, dep), ChangeKind.ADD, None, Mask.UNKNOWN, note
            )
        )
    return changes


def resolve_variables(
    explicit: Mapping[str, DesiredValue],
    uses: Collection[str],
    dependency_env: Mapping[str, Mapping[str, SecretStr]],
    live: Mapping[str, SecretStr],
    policy: Literal["replace", "merge"],
) -> dict[str, str]:
    """The full map to send to the platform (service create or env PUT) at apply time.

    Call it once every used dependency exists (its `env_vars` in `dependency_env`); raises
    KeyError naming the first dependency or variable still unknown. With `merge`, live keys the
    manifest lacks are kept.
    """
    wanted, pending = wanted_variables(explicit, uses, dependency_env)
    if pending:
        raise KeyError(f"dependency.{pending[0]} has no known env_vars yet")
    result: dict[str, str] = {}
    if policy == "merge":
        result.update({k: v.get_secret_value() for k, v in live.items()})
    for key, want in wanted.items():
        if want.value is None:
            raise KeyError(f"{key}: a referenced dependency variable is not known yet")
        result[key] = want.value
    return result


def unread_dependency_env(
    dependency_env: Mapping[str, Mapping[str, SecretStr]],
    unread: Collection[str],
    services: Mapping[str, tuple[Mapping[str, DesiredValue], Collection[str]]],
    live_env: Mapping[str, Mapping[str, SecretStr]],
    *,
    types: Mapping[str, str] | None = None,
) -> dict[str, dict[str, SecretStr]]:
    """`dependency_env` with the `env_vars` of the `unread` dependencies (live, but the gateway
    did not show their variables) taken from the services' live env: unknown is not empty.

    `services` maps a service name to (its manifest env, the dependencies it uses). A live key
    the manifest does not name came from a used dependency (the platform injected it): it is
    kept. A manifest value that is exactly one `${{ dependencies.X.KEY }}` gives X's KEY from
    the service's live value. Without this, the next env replace would drop `DATABASE_URL`.

    A service that uses several unread dependencies holds all their keys in one env: with
    `types` (dependency key → type) each live key goes only to the dependency whose type
    injects it (`REDIS_*` to the redis, `POSTGRES_*` to the postgres; a key no type claims, or
    that two used dependencies could both inject, goes to none), so one database's variables
    never show up as another's in a service that uses only one of them."""
    result = {key: dict(values) for key, values in dependency_env.items()}
    for dep in unread:
        result.setdefault(dep, {})
    unread_set = set(unread)

    def claimed_elsewhere(key: str, uses: Collection[str]) -> bool:
        """`key` is injected by a used dependency whose variables are known another way (read,
        or being created): a service on a new `db` and an unread `cache` still holds the old
        `DATABASE_URL`, which is not the cache's."""
        return types is not None and any(
            dep not in unread_set and injects(types.get(dep, ""), key) for dep in uses
        )

    # A service that uses one unread dependency says which keys are that one's. One that uses
    # several (db and cache) gives each of them the keys it is known to hand out, and the rest
    # to those of them with no known keys: a worker on `db` alone must not be given the cache's
    # REDIS_* because the api (on both) carries them.
    known: dict[str, set[str]] = {dep: set() for dep in unread}
    for name, (explicit, uses) in services.items():
        mine = [dep for dep in uses if dep in unread]
        if len(mine) == 1:
            known[mine[0]] |= {
                k
                for k in live_env.get(name, {})
                if k not in explicit and not claimed_elsewhere(k, uses)
            }
    for name, (explicit, uses) in sorted(services.items()):
        live = live_env.get(name)
        if not live:
            continue
        mine = [dep for dep in uses if dep in unread]
        unknown = [dep for dep in mine if not known[dep]] or mine
        for key, secret in live.items():
            if key in explicit or claimed_elsewhere(key, uses):
                continue
            owners = [dep for dep in mine if key in known[dep]]
            if len(mine) > 1 and types is not None:
                # The type that injects the key decides; a key no type (or two) claims goes
                # only where a single-dependency service showed it.
                claimants = [d for d in mine if injects(types.get(d, ""), key)]
                owners = claimants if len(claimants) == 1 else owners
            else:
                owners = owners or unknown
            for dep in owners:
                result[dep].setdefault(key, secret)
        for key, desired in explicit.items():
            parts = desired.parts
            if len(parts) == 1 and isinstance(parts[0], DependencyPart) and key in live:
                ref = parts[0]
                if ref.dependency in unread:
                    result[ref.dependency].setdefault(ref.key, live[key])
    return result


# The variables each dependency type injects, by name (api-schemas.md step 3.2: "typically
# `DATABASE_URL`, and per-DB fields (e.g. `POSTGRES_USER`, …)"; setup.md's detection list).
_INJECTED_PREFIXES: Mapping[str, tuple[str, ...]] = {
    "postgres": ("DATABASE_URL", "POSTGRES_", "PG"),
    "mysql": ("DATABASE_URL", "MYSQL_"),
    "mongodb": ("MONGO",),
    "redis": ("REDIS_",),
    "clickhouse": ("CLICKHOUSE_",),
}


def injects(dependency_type: str, key: str) -> bool:
    """True when a dependency of `dependency_type` injects the variable `key`."""
    return key.startswith(_INJECTED_PREFIXES.get(dependency_type, ()))
