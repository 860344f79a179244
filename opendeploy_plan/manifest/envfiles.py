"""Reading dotenv files that resolve `${{ secrets.NAME }}`; their values are never logged.

An empty value counts as unset, wherever it is: `export KEY=` (what CI does with a secret that
was never configured) does not hide a non-empty `.env` value, and an empty `.env.local` line
does not hide `.env`. A secret that is empty everywhere resolves to "" so the caller can refuse
it (or accept it, for `${{ secrets.NAME || '' }}`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from opendeploy_plan.errors import OdplanError
from opendeploy_plan.manifest.models import default_env_files, relative_path_problem


class EnvFileError(OdplanError, ValueError):
    """An env file that cannot be read (not UTF-8, unreadable); the message names the file."""


def load_env_files(
    manifest_dir: str | Path, files: list[str] | None, environment: str
) -> dict[str, str]:
    """Variables from the dotenv files next to the manifest, later files winning.

    `files` None means the default list (`.env`, `.env.local`, `.env.<environment>`,
    `.env.<environment>.local`). Missing files are skipped; a path leaving the manifest's
    folder is ignored (the loader already reported it). No `${VAR}` interpolation: a secret
    containing `$` stays exactly as written.
    """
    from dotenv import dotenv_values  # only planning needs it, not `odplan validate`

    root = Path(manifest_dir)
    resolved_root = root.resolve()
    values: dict[str, str] = {}
    for name in default_env_files(environment) if files is None else files:
        if relative_path_problem(name) is not None:
            continue
        path = root / name
        resolved = path.resolve()
        if resolved_root not in resolved.parents or not resolved.is_file():
            continue
        try:
            variables = dotenv_values(path, interpolate=False, encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise EnvFileError(f"{name} is not UTF-8 text") from exc
        except OSError as exc:
            raise EnvFileError(f"{name} cannot be read ({exc.strerror})") from exc
        for key, value in variables.items():
            if value:
                values[key] = value
            elif value is not None and key not in values:
                values[key] = ""  # empty: known, but never hides a value from another file
    return values


def lookup_secret(
    name: str, process_env: Mapping[str, str], files: Mapping[str, str]
) -> str | None:
    """A secret's value: the process environment, then the env files, skipping empty values.
    "" when it is set but empty everywhere, None when it is set nowhere."""
    found = process_env.get(name)
    if found:
        return found
    from_files = files.get(name)
    if from_files:
        return from_files
    if found is not None or from_files is not None:
        return ""
    return None
