"""Which live database is which manifest key: a small hint file, `.opendeploy/dependencies.json`
next to the manifest (the skill keeps its per-deploy working state in that folder too).

The documented `GET /v1/dependencies/status/:project_id` rows are `{id, status}` only: they
do not say which manifest key a row is. The create answer does, once, so apply writes
`{project: {environment: {key: id}}}` here. The gateway stays the source of truth: a hinted id
that is no longer listed is ignored, and the file holds ids only (never a credential).
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opendeploy_plan.gateway import GatewayClient
    from opendeploy_plan.state.model import ObservedState

__all__ = ["HINT_FILE", "read_dependency_hints", "record_dependency_hint", "refresh_with_hints"]

HINT_FILE = Path(".opendeploy") / "dependencies.json"


def _load(manifest_dir: Path) -> dict[str, dict[str, dict[str, str]]]:
    try:
        data = json.loads((manifest_dir / HINT_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_dependency_hints(manifest_dir: Path, project: str, environment: str) -> dict[str, str]:
    """`{dependency id: manifest key}` recorded for `project` in `environment`."""
    keys = _load(manifest_dir).get(project, {}).get(environment, {})
    if not isinstance(keys, dict):
        return {}
    return {str(dep_id): str(key) for key, dep_id in keys.items()}


def record_dependency_hint(
    manifest_dir: Path, project: str, environment: str, key: str, dependency_id: str
) -> None:
    """Remember that `dependency_id` is `key` (best effort: an unwritable folder only costs the
    hint, refresh then attributes by elimination or stops)."""
    data = _load(manifest_dir)
    data.setdefault(project, {}).setdefault(environment, {})[key] = dependency_id
    path = manifest_dir / HINT_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        os.replace(temporary, path)
    except OSError:
        pass


async def refresh_with_hints(
    client: GatewayClient,
    manifest_dir: Path,
    project: str,
    environment: str,
    *,
    wanted: Collection[str] = (),
) -> ObservedState:
    """Refresh `project` with its databases named by their manifest keys: every reader that
    shows a database (plan, status, destroy, the final report) goes through here, so none shows
    `dependency.<id>` where the hint file knows the name. `wanted` (the manifest's keys) lets
    one unnamed row be named by elimination; leave it empty where no manifest is read."""
    from opendeploy_plan.state.refresh import refresh  # refresh imports this module

    return await refresh(
        client,
        project,
        environment,
        dependency_hints=read_dependency_hints(manifest_dir, project, environment),
        wanted_dependencies=tuple(wanted),
    )
