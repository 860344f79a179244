"""Which live database is which manifest key: a small hint file, `.opendeploy/dependencies.json`
next to the manifest (the skill keeps its per-deploy working state in that folder too).

The documented `GET /v1/dependencies/status/:project_id` rows are `{id, status}` only: they
do not say which manifest key a row is. The create answer does, once, so apply writes
`{project: {environment: {key: id}}}` here. The gateway stays the source of truth: a hinted id
that is no longer listed is ignored, and the file holds ids only (never a credential).

A create whose answer never arrives (a 5xx, a lost response, a kill -9) would leave a row
nobody can name. So apply writes its intent first, fsync'd, in the key's place:
`{key: {"creating": type, "since": time}}` (write-ahead, no secret). The answer replaces it
with the id. A row that appears with no name and no hint while exactly one intent is pending is
that intent's database; apply runs dependency creates one at a time so that at most one is.

The answer is also the only place the documented gateway shows a database's credentials. While
a service that uses the database has not been given them yet, they exist only in the running
apply's memory, so the answer keeps the intent and adds the id:
`{key: {"creating": type, "since": time, "id": id}}`. Once a service holds the credentials (its
env read back), the entry becomes the plain id. If the run dies in between, the next refresh
knows the row by its id and, when its credentials cannot be read, leaves it out: apply deletes
it and creates the database again before anyone could have used it (`apply.handlers.dependency`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opendeploy_plan.gateway import GatewayClient
    from opendeploy_plan.state.model import ObservedState

__all__ = [
    "HINT_FILE",
    "PendingCreate",
    "clear_create_intent",
    "read_dependency_hints",
    "read_pending_creates",
    "record_create_intent",
    "record_created",
    "record_dependency_hint",
    "record_handed",
    "refresh_with_hints",
    "unhanded_dependencies",
]

HINT_FILE = Path(".opendeploy") / "dependencies.json"


@dataclass(frozen=True)
class PendingCreate:
    """A dependency create that was sent (or about to be) and whose answer was never recorded."""

    key: str
    type: str
    since: str
    # Set once the create was answered: the database exists, its credentials not yet handed.
    id: str | None = None


def _load(manifest_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((manifest_dir / HINT_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _keys(manifest_dir: Path, project: str, environment: str) -> dict[str, Any]:
    environments = _load(manifest_dir).get(project, {})
    keys = environments.get(environment, {}) if isinstance(environments, dict) else {}
    return keys if isinstance(keys, dict) else {}


def read_dependency_hints(manifest_dir: Path, project: str, environment: str) -> dict[str, str]:
    """`{dependency id: manifest key}` recorded for `project` in `environment`."""
    keys = _keys(manifest_dir, project, environment)
    return {dep_id: str(key) for key, dep_id in keys.items() if isinstance(dep_id, str)}


def read_pending_creates(
    manifest_dir: Path, project: str, environment: str
) -> dict[str, PendingCreate]:
    """`{manifest key: intent}` for the creates whose answer was never recorded."""
    pending: dict[str, PendingCreate] = {}
    for key, value in _keys(manifest_dir, project, environment).items():
        if isinstance(value, dict) and isinstance(value.get("creating"), str):
            made = value.get("id")
            pending[str(key)] = PendingCreate(
                str(key),
                value["creating"],
                str(value.get("since")),
                made if isinstance(made, str) else None,
            )
    return pending


def unhanded_dependencies(manifest_dir: Path, project: str, environment: str) -> dict[str, str]:
    """`{dependency id: manifest key}` of the databases created but whose credentials no
    service was given yet (`record_created`)."""
    pending = read_pending_creates(manifest_dir, project, environment)
    return {intent.id: key for key, intent in pending.items() if intent.id is not None}


def record_create_intent(
    manifest_dir: Path, project: str, environment: str, key: str, dependency_type: str
) -> bool:
    """Write (and fsync) "creating `key` (`dependency_type`) now" before the create is sent.
    False when it cannot be written: the caller then knows a lost answer cannot be named."""
    return _store(manifest_dir, project, environment, key, _intent(dependency_type))


def record_dependency_hint(
    manifest_dir: Path, project: str, environment: str, key: str, dependency_id: str
) -> bool:
    """Remember that `dependency_id` is `key`, replacing the key's intent. False when it cannot
    be written (an unwritable folder only costs the hint when no intent was written either:
    refresh then attributes by elimination or stops)."""
    return _store(manifest_dir, project, environment, key, dependency_id)


def record_created(
    manifest_dir: Path,
    project: str,
    environment: str,
    key: str,
    dependency_type: str,
    dependency_id: str,
) -> bool:
    """Remember that `dependency_id` is `key`, keeping the intent: its credentials are only in
    this run's memory until `record_handed`. False when it cannot be written."""
    value = _intent(dependency_type) | {"id": dependency_id}
    return _store(manifest_dir, project, environment, key, value)


def _intent(dependency_type: str) -> dict[str, str]:
    """ "Creating a `dependency_type` since now": what the hint file holds for a create whose
    answer (or hand-over) is not recorded yet."""
    return {"creating": dependency_type, "since": datetime.now(UTC).isoformat(timespec="seconds")}


def record_handed(
    manifest_dir: Path, project: str, environment: str, keys: Collection[str]
) -> None:
    """A service now holds the credentials of `keys`: their entries become plain ids."""
    pending = read_pending_creates(manifest_dir, project, environment)
    for key in keys:
        intent = pending.get(key)
        if intent is not None and intent.id is not None:
            _store(manifest_dir, project, environment, key, intent.id)


def clear_create_intent(manifest_dir: Path, project: str, environment: str, key: str) -> None:
    """Drop `key`'s intent: the create was refused (it made nothing)."""
    if key not in read_pending_creates(manifest_dir, project, environment):
        return
    _store(manifest_dir, project, environment, key, None)


def _store(
    manifest_dir: Path, project: str, environment: str, key: str, value: str | dict[str, str] | None
) -> bool:
    data = _load(manifest_dir)
    environments = data.get(project)
    if not isinstance(environments, dict):
        environments = data[project] = {}
    keys = environments.get(environment)
    if not isinstance(keys, dict):
        keys = environments[environment] = {}
    if value is None:
        keys.pop(key, None)
    else:
        keys[key] = value
    path = manifest_dir / HINT_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        with temporary.open("w") as handle:
            handle.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
            handle.flush()
            # Write-ahead: the intent must be on disk before the create leaves, or a kill -9
            # right after the send would leave a row nobody can name.
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError:
        return False
    return True


async def refresh_with_hints(
    client: GatewayClient,
    manifest_dir: Path,
    project: str,
    environment: str,
    *,
    wanted: Collection[str] = (),
    recreate_unhanded: bool = False,
) -> ObservedState:
    """Refresh `project` with its databases named by their manifest keys: every reader that
    shows a database (plan, status, destroy, the final report) goes through here, so none shows
    `dependency.<id>` where the hint file knows the name. `wanted` (the manifest's keys) lets
    one unnamed row be named by elimination, and a create whose answer was lost (its intent
    still pending) claims the one unknown row; leave `wanted` empty where no manifest is read.
    `recreate_unhanded` (only for planning an apply): leave out a database created by a run
    that stopped before any service got its credentials, when they cannot be read."""
    from opendeploy_plan.state.refresh import refresh  # refresh imports this module

    return await refresh(
        client,
        project,
        environment,
        dependency_hints=read_dependency_hints(manifest_dir, project, environment),
        wanted_dependencies=tuple(wanted),
        pending_dependencies=tuple(read_pending_creates(manifest_dir, project, environment)),
        unhanded_dependencies=unhanded_dependencies(manifest_dir, project, environment),
        recreate_unhanded=recreate_unhanded,
    )
