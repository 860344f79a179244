"""What pip must install for a Python app that has no requirements.txt: PEP 508 lines read from
`pyproject.toml` (`[project].dependencies`, else Poetry's `[tool.poetry.dependencies]`) or
from a `Pipfile` (`[packages]`).

Poetry and Pipenv are often not installed where the app is built; their dependency tables
say the same thing in their own syntax, so they are translated to pip's rather than ignored
(an empty environment fails only at start, with a `ModuleNotFoundError` far from the cause).
Development groups are not installed, as on the platform.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["RequirementsError", "declared_requirements"]


class RequirementsError(Exception):
    """The dependency file cannot be read; the message names it and why."""


def declared_requirements(app_dir: Path) -> tuple[list[str], str, list[str]]:
    """(requirements, the file they come from, notes) for an app without requirements.txt;
    ([], "", []) when nothing declares dependencies."""
    pyproject = _toml(app_dir / "pyproject.toml")
    project = pyproject.get("project")
    if isinstance(project, dict) and isinstance(project.get("dependencies"), list):
        return [str(d) for d in project["dependencies"]], "pyproject.toml [project]", []
    poetry = pyproject.get("tool", {}).get("poetry", {}) if pyproject else {}
    if isinstance(poetry, dict) and isinstance(poetry.get("dependencies"), dict):
        found, notes = _translate(poetry["dependencies"], poetry_constraint)
        return found, "pyproject.toml [tool.poetry.dependencies]", notes
    pipfile = _toml(app_dir / "Pipfile")
    if isinstance(pipfile.get("packages"), dict):
        found, notes = _translate(pipfile["packages"], _pip_constraint)
        return found, "Pipfile [packages]", notes
    return [], "", []


def _toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RequirementsError(f"{path.name}: {error}") from error


def _translate(table: dict[str, Any], constraint: Any) -> tuple[list[str], list[str]]:
    found: list[str] = []
    notes: list[str] = []
    for name, spec in table.items():
        if name.lower() == "python":
            continue
        if isinstance(spec, list):  # several specs by marker: the first is the usual one
            spec = spec[0] if spec else "*"
        if isinstance(spec, str):
            found.append(name + constraint(spec))
            continue
        if not isinstance(spec, dict) or spec.get("optional"):
            continue
        extras = spec.get("extras")
        label = name + (f"[{','.join(map(str, extras))}]" if isinstance(extras, list) else "")
        if "git" in spec:
            ref = spec.get("rev") or spec.get("tag") or spec.get("branch") or spec.get("ref")
            found.append(f"{label} @ git+{spec['git']}" + (f"@{ref}" if ref else ""))
        elif "url" in spec:
            found.append(f"{label} @ {spec['url']}")
        elif "path" in spec:
            notes.append(f"{name}: a local path dependency ({spec['path']}) is not installed")
        else:
            marker = spec.get("markers")
            line = label + constraint(str(spec.get("version", "*")))
            found.append(f"{line} ; {marker}" if isinstance(marker, str) else line)
    return found, notes


def _pip_constraint(spec: str) -> str:
    spec = spec.strip()
    return "" if spec in ("", "*") else spec


_VERSION = re.compile(r"^\d+(\.\d+)*$")


def poetry_constraint(spec: str) -> str:
    """Poetry's `^1.2`, `~1.2.3`, `1.2.3`, `>=1,<2`, `1.2.*` as a PEP 440 specifier ("" for
    any version). Alternatives (`^1 || ^2`) cannot be written in PEP 440: the lowest wins."""
    spec = spec.split("||", 1)[0].strip()
    parts = [p for p in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", spec) if p]
    out: list[str] = []
    for part in parts:
        part = part.replace(" ", "")
        if part in ("*", ""):
            continue
        if part.startswith("^") and _VERSION.match(part[1:]):
            out.append(_bounded(part[1:], caret=True))
        elif part.startswith("~") and not part.startswith("~=") and _VERSION.match(part[1:]):
            out.append(_bounded(part[1:], caret=False))
        elif _VERSION.match(part) or part.endswith(".*"):
            out.append(f"=={part}")
        else:
            out.append(part)
    return ",".join(out)


def _bounded(version: str, *, caret: bool) -> str:
    numbers = [int(n) for n in version.split(".")]
    if caret:  # the first non-zero component may not change
        index = next((i for i, n in enumerate(numbers) if n != 0), len(numbers) - 1)
    else:  # ~1 -> <2, ~1.2 and ~1.2.3 -> <1.3
        index = 0 if len(numbers) == 1 else 1
    upper = [*numbers[:index], numbers[index] + 1]
    return f">={version},<{'.'.join(map(str, upper))}"
