"""Loading `opendeploy.yaml`: read, check everything, report every problem with its position.

`load_manifest` never raises on user error. It reads the file once, applies the selected
environment's overlay, validates the result (and every other overlay, so a broken staging
overlay fails CI on main too) and returns the effective manifest with all diagnostics.
"""

from __future__ import annotations

import copy
import datetime
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path as FsPath
from types import UnionType
from typing import Annotated, Any, Final, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from opendeploy_plan import platform
from opendeploy_plan.diagnostics import Diagnostic, Severity, has_errors, sorted_unique
from opendeploy_plan.manifest import _yaml
from opendeploy_plan.manifest._yaml import Located, Path, display_path
from opendeploy_plan.manifest.checks import (
    Reporter,
    check_overlay_names,
    check_relations,
    did_you_mean,
)
from opendeploy_plan.manifest.models import FORMAT_VERSION, Manifest

DEFAULT_FILENAME: Final = "opendeploy.yaml"
OVERLAY_KEYS: Final = ("project", "dependencies", "services")

# Values where an unquoted `8080`, `true` or `1` means the text as written.
_TEXTUAL_PATHS: Final = (
    ("services", "*", "env", "*"),
    ("services", "*", "build_env", "*"),
    ("services", "*", "resources", "*", "*"),
)

_KEY_HINTS: Final = {
    "password": "passwords are never written in the manifest: the platform generates them "
    "and injects them into every service that `uses` the dependency",
    "dependencies": "use `after` for services this one needs and `uses` for databases",
    "depends_on": "use `after` for services this one needs and `uses` for databases",
    "name": "a service's or dependency's name is its key in the mapping",
    "environment": "a service's environment is chosen for the whole manifest: "
    "top-level `environment` or -e",
}


@dataclass
class LoadResult:
    """The effective manifest (None when there is any error) and every diagnostic, sorted."""

    manifest: Manifest | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    environment: str = "production"
    # Where relative paths (sources, env files) are resolved from.
    manifest_dir: FsPath = field(default_factory=FsPath)
    # Where each value of the selected environment sits, for diagnostics found after loading.
    positions: dict[_yaml.Path, _yaml.Located] = field(default_factory=dict, repr=False)

    def locate(self, dotted: str) -> tuple[int, int]:
        """`(line, col)` of `services.web.env.KEY` (or its nearest ancestor), else `(0, 0)`."""
        if not self.positions:
            return 0, 0
        path = tuple(dotted.split("."))
        located = self.positions[path[: _known_depth(self.positions, path)]]
        return located.line, located.col

    @property
    def ok(self) -> bool:
        return self.manifest is not None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]


def manifest_digest(path: str | os.PathLike[str]) -> str:
    """sha256 of the manifest file's bytes, for saved plans to notice an edited manifest."""
    import hashlib  # only saved plans need it; keep `odplan validate` start-up lean

    return hashlib.sha256(FsPath(path).read_bytes()).hexdigest()


def load_manifest(
    path: str | os.PathLike[str] = DEFAULT_FILENAME,
    environment: str | None = None,
    *,
    check_sources: bool = True,
) -> LoadResult:
    """Read, check and resolve overlays of a manifest file. Never raises on user error.

    `environment` (`production` / `staging`) overrides the manifest's own `environment`.
    `check_sources=False` skips checking that each service's source folder exists, for
    commands that only need names (destroy, status, logs, ...): the code may be gone already.
    """
    file = os.fspath(path)
    try:
        raw = FsPath(file).read_bytes()
    except FileNotFoundError:
        return _fail(file, "no such file; create one with `odplan init` or pass -f FILE")
    except IsADirectoryError:
        return _fail(file, "is a directory; pass the manifest file with -f FILE")
    except OSError as exc:
        return _fail(file, f"cannot be read: {exc.strerror or exc}")
    return load_manifest_bytes(
        raw, file, FsPath(file).parent, environment, check_sources=check_sources
    )


def load_manifest_bytes(
    raw: bytes,
    file: str,
    manifest_dir: FsPath,
    environment: str | None = None,
    *,
    check_sources: bool = True,
) -> LoadResult:
    """Like `load_manifest` for bytes already read; `file` is only used in diagnostics."""
    text, problem = _yaml.decode(raw)
    if problem is None and text is not None:
        root, problem = _yaml.compose(text)
        if problem is None and root is None:
            problem = _yaml.Problem(
                0, 0, (), "the file is empty", "Start with `version: 1` and a `project`."
            )
    if problem is not None or root is None:
        assert problem is not None
        return LoadResult(None, [_from_problem(file, problem)], manifest_dir=manifest_dir)
    document, problems = _yaml.to_document(root)
    diagnostics = [_from_problem(file, p) for p in problems]
    if any(p.fatal for p in problems):
        return LoadResult(None, sorted_unique(diagnostics), manifest_dir=manifest_dir)
    folder = manifest_dir if check_sources else None
    return _Validation(file, manifest_dir, folder, document, environment, diagnostics).run()


def _fail(file: str, summary: str) -> LoadResult:
    return LoadResult(
        None, [Diagnostic(file, 0, 0, "error", "", summary)], manifest_dir=FsPath(file).parent
    )


def _from_problem(file: str, problem: _yaml.Problem) -> Diagnostic:
    return Diagnostic(
        file,
        problem.line,
        problem.col,
        "error",
        display_path(problem.path),
        problem.message,
        problem.detail,
    )


class _Validation:
    """One load: the document, its positions, and the diagnostics accumulated so far."""

    def __init__(
        self,
        file: str,
        manifest_dir: FsPath,
        sources_dir: FsPath | None,
        document: _yaml.Document,
        environment: str | None,
        diagnostics: list[Diagnostic],
    ) -> None:
        self.file = file
        self.manifest_dir = manifest_dir
        self.sources_dir = sources_dir  # None: source folders are not checked
        self.document = document
        self.requested_environment = environment
        self.diagnostics = diagnostics
        self.selected_positions: dict[_yaml.Path, _yaml.Located] = {}

    def run(self) -> LoadResult:
        data = self.document.data
        positions = self.document.positions
        if data is _yaml.UNREADABLE:
            return self.result(None, "production")  # reported when the file was read
        if not isinstance(data, dict):
            self.add(
                positions, "error", (), f"the top level must be a mapping (got {_describe(data)})"
            )
            return self.result(None, "production")
        if not self.check_version(data, positions):
            return self.result(None, "production")
        base = {key: value for key, value in data.items() if key != "environments"}
        overlays = self.read_overlays(data.get("environments"), positions)
        for name, overlay in overlays.items():
            check_overlay_names(name, overlay, base, self.reporter(positions))
        selected = self.select_environment(base)
        manifest, self.selected_positions = self.validate_environment(
            base, positions, selected, overlays
        )
        # Another environment's check says only what is new: not what was said already.
        said = set(self.diagnostics)
        for name in sorted(set(overlays) - {selected}):
            before = len(self.diagnostics)
            self.validate_environment(base, positions, name, overlays)
            self.diagnostics[before:] = _only_in(name, self.diagnostics[before:], said)
        return self.result(manifest, selected)

    def validate_environment(
        self,
        base: dict[str, object],
        positions: dict[Path, Located],
        name: str,
        overlays: dict[str, dict[str, object]],
    ) -> tuple[Manifest | None, dict[Path, Located]]:
        """The manifest `name` would deploy (None if invalid), and where its values sit."""
        merged, merged_positions = _apply_overlay(base, positions, name, overlays.get(name))
        if merged.get("environment", name) in platform.ENVIRONMENTS:
            merged["environment"] = name  # else the model reports the bad value
        return self.validate(merged, merged_positions), merged_positions

    def result(self, manifest: Manifest | None, environment: str) -> LoadResult:
        diagnostics = sorted_unique(self.diagnostics)
        manifest = None if has_errors(diagnostics) else manifest
        return LoadResult(
            manifest, diagnostics, environment, self.manifest_dir, self.selected_positions
        )

    def add(
        self,
        positions: dict[Path, Located],
        severity: Severity,
        path: Path,
        summary: str,
        detail: str = "",
        *,
        at_key: bool = False,
    ) -> None:
        """Report at the position of `path`, or of its nearest ancestor that has one (the
        document's root always has one)."""
        depth = _known_depth(positions, path)
        located = positions[path[:depth]]
        shown = (*located.source, *path[depth:])
        exact = depth == len(path)
        line, col = (
            (located.key_line, located.key_col) if at_key and exact else (located.line, located.col)
        )
        self.diagnostics.append(
            Diagnostic(self.file, line, col, severity, display_path(shown), summary, detail)
        )

    def check_version(self, data: dict[str, object], positions: dict[Path, Located]) -> bool:
        """False when the file is written for another format version (nothing else is checked)."""
        if "version" not in data:
            self.add(positions, "error", ("version",), "is required: add `version: 1` at the top")
            data["version"] = FORMAT_VERSION
            return True
        version = data["version"]
        if type(version) is int and version == FORMAT_VERSION:
            return True
        if version is _yaml.UNREADABLE:
            return False  # reported when the file was read
        self.add(
            positions,
            "error",
            ("version",),
            f"unsupported format version {_describe(version)}; this odplan reads version 1",
        )
        return False

    def read_overlays(
        self, value: object, positions: dict[Path, Located]
    ) -> dict[str, dict[str, object]]:
        overlays: dict[str, dict[str, object]] = {}
        if value is None or value is _yaml.UNREADABLE:
            return overlays
        if not isinstance(value, dict):
            self.add(
                positions, "error", ("environments",), f"must be a mapping (got {_describe(value)})"
            )
            return overlays
        for name, overlay in value.items():
            path: Path = ("environments", name)
            if name not in platform.ENVIRONMENTS:
                self.add(
                    positions,
                    "error",
                    path,
                    f"unknown environment {name!r}"
                    + (
                        did_you_mean(name, list(platform.ENVIRONMENTS))
                        or "; use production or staging"
                    ),
                    at_key=True,
                )
                continue
            if overlay is None:
                overlay = {}
            if overlay is _yaml.UNREADABLE:
                continue
            if not isinstance(overlay, dict):
                self.add(positions, "error", path, f"must be a mapping (got {_describe(overlay)})")
                continue
            accepted: dict[str, object] = {}
            for key, inner in overlay.items():
                if key in OVERLAY_KEYS:
                    accepted[key] = inner
                else:
                    self.add(
                        positions,
                        "error",
                        (*path, key),
                        f"unknown key{did_you_mean(key, list(OVERLAY_KEYS))}",
                        "An overlay may set project, dependencies and services.",
                        at_key=True,
                    )
            overlays[name] = accepted
        return overlays

    def select_environment(self, base: dict[str, object]) -> str:
        requested = self.requested_environment
        if requested is not None:
            if requested in platform.ENVIRONMENTS:
                return requested
            self.diagnostics.append(
                Diagnostic(
                    self.file,
                    0,
                    0,
                    "error",
                    "",
                    f"unknown environment {requested!r} (from -e or OD_ENVIRONMENT); "
                    "use production or staging",
                )
            )
        declared = base.get("environment")
        return (
            declared
            if isinstance(declared, str) and declared in platform.ENVIRONMENTS
            else "production"
        )

    def validate(
        self, merged: dict[str, object], positions: dict[Path, Located]
    ) -> Manifest | None:
        _use_written_text(merged, positions)
        check_relations(merged, self.sources_dir, self.reporter(positions))
        try:
            return Manifest.model_validate(merged)
        except ValidationError as exc:
            for error in exc.errors():
                self.add_pydantic_error(dict(error), positions)
        return None

    def reporter(self, positions: dict[Path, Located]) -> Reporter:
        """What the checks report through: `add` at these positions."""

        def report(
            severity: Severity, path: Path, summary: str, detail: str = "", *, at_key: bool = False
        ) -> None:
            self.add(positions, severity, path, summary, detail, at_key=at_key)

        return report

    def add_pydantic_error(self, error: dict[str, Any], positions: dict[Path, Located]) -> None:
        path = _logical_path(error["loc"])
        kind = error["type"]
        value = error.get("input")
        if value is _yaml.UNREADABLE:
            return  # reported when the file was read
        if path and path[-1] == "[key]":
            self.add(positions, "error", path[:-1], error["msg"], at_key=True)
        elif kind == "missing":
            self.add(positions, "error", path, "is required")
        elif kind == "extra_forbidden":
            key = str(path[-1])
            hint = _KEY_HINTS.get(key)
            allowed = _allowed_keys(path[:-1]) + (["environments"] if len(path) == 1 else [])
            suggestion = did_you_mean(key, allowed)
            self.add(
                positions,
                "error",
                path,
                f"unknown key{suggestion}" + (f" ({hint})" if hint and not suggestion else ""),
                at_key=True,
            )
        else:
            self.add(positions, "error", path, _type_message(kind, error, value))


def _known_depth(positions: dict[Path, Located], path: Path) -> int:
    """How much of `path` leads to a value with a position (0: the document's root)."""
    depth = len(path)
    while depth and path[:depth] not in positions:
        depth -= 1
    return depth


def _only_in(environment: str, found: list[Diagnostic], said: set[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics of another environment's check, minus repeats, saying which environment
    they belong to unless their path already does (`environments.staging.…`)."""
    own_prefix = f"environments.{environment}"
    labelled: list[Diagnostic] = []
    for diagnostic in found:
        if diagnostic in said:
            continue
        if not diagnostic.path.startswith(own_prefix):
            diagnostic = replace(diagnostic, summary=f"{diagnostic.summary} (in {environment})")
        labelled.append(diagnostic)
    return labelled


def _logical_path(loc: tuple[str | int, ...]) -> Path:
    """The document path of a pydantic error location (discriminator tags removed)."""
    parts = list(loc)
    if (
        len(parts) >= 4
        and parts[0] == "services"
        and parts[2] == "source"
        and parts[3]
        in (
            "git",
            "path",
        )
    ):
        del parts[3]
    return tuple(parts)


_TYPE_NAMES: Final = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "float_type": "a number",
}


def _type_message(kind: str, error: dict[str, Any], value: object) -> str:
    if kind in _TYPE_NAMES:
        return f"must be {_TYPE_NAMES[kind]} (got {_describe(value)})"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(error["ctx"]["expected"]))
        suggestion = did_you_mean(value, choices) if isinstance(value, str) else ""
        return f"must be one of {', '.join(choices)} (got {_describe(value)}){suggestion}"
    # Our own rules' messages (kind `odplan`) already start in lower case; pydantic's do not.
    message = str(error["msg"])
    return message[:1].lower() + message[1:]


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, datetime.date):
        return f"date {value.isoformat()}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _allowed_keys(path: Path) -> list[str]:
    """The keys the model accepts at a document path, for "did you mean" suggestions."""
    current: list[object] = [Manifest]
    for part in path:
        following: list[object] = []
        for candidate in _leaf_types(current):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                field_info = candidate.model_fields.get(str(part))
                if field_info is not None:
                    following.append(field_info.annotation)
            elif get_origin(candidate) is dict:  # the models have no lists of models
                following.append(get_args(candidate)[1])
        current = following
    keys: list[str] = []
    for candidate in _leaf_types(current):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            keys.extend(candidate.model_fields)
    return keys


def _leaf_types(types: list[object]) -> list[object]:
    """The plain types inside `Annotated[...]` and unions (`X | None`)."""
    leaves: list[object] = []
    pending = list(types)
    while pending:
        candidate = pending.pop()
        origin = get_origin(candidate)
        if origin is Annotated:
            pending.append(get_args(candidate)[0])
        elif origin is Union or origin is UnionType:
            pending.extend(get_args(candidate))
        else:
            leaves.append(candidate)
    return leaves


def _use_written_text(data: dict[str, object], positions: dict[Path, Located]) -> None:
    """Turn unquoted scalars in textual places back into the text the author wrote."""
    for pattern in _TEXTUAL_PATHS:
        for path, container, key in _matches(data, pattern, ()):
            value = container[key]
            located = positions.get(path)
            if (
                isinstance(value, int | float | datetime.date)
                and located is not None
                and located.plain is not None
            ):
                container[key] = located.plain


def _matches(
    value: object, pattern: tuple[str, ...], path: Path
) -> list[tuple[Path, dict[str, object], str]]:
    if not isinstance(value, dict) or not pattern:
        return []
    head, rest = pattern[0], pattern[1:]
    keys = list(value) if head == "*" else [head] if head in value else []
    found: list[tuple[Path, dict[str, object], str]] = []
    for key in keys:
        if rest:
            found.extend(_matches(value[key], rest, (*path, key)))
        else:
            found.append(((*path, key), value, key))
    return found


def _apply_overlay(
    base: dict[str, object],
    positions: dict[Path, Located],
    name: str,
    overlay: dict[str, object] | None,
) -> tuple[dict[str, object], dict[Path, Located]]:
    """Deep-merge an overlay into a copy of the base: mappings merge key by key, anything else
    (scalars, lists) replaces, and `null` removes the key. Overlaid values keep the overlay's
    own positions, so diagnostics point into `environments.<name>`."""
    merged = copy.deepcopy(base)
    merged_positions = dict(positions)
    if overlay is not None:
        _merge_into(merged, (), overlay, ("environments", name), positions, merged_positions)
    return merged, merged_positions


def _merge_into(
    target: dict[str, object],
    target_path: Path,
    overlay: dict[str, object],
    overlay_path: Path,
    source_positions: dict[Path, Located],
    positions: dict[Path, Located],
) -> None:
    for key, value in overlay.items():
        inner_target: Path = (*target_path, key)
        inner_overlay: Path = (*overlay_path, key)
        existing = target.get(key)
        if isinstance(value, dict) and isinstance(existing, dict):
            _merge_into(existing, inner_target, value, inner_overlay, source_positions, positions)
            continue
        for path in [p for p in positions if p[: len(inner_target)] == inner_target]:
            del positions[path]
        if value is None:
            target.pop(key, None)
            continue
        target[key] = copy.deepcopy(value)
        depth = len(inner_overlay)
        for path, located in source_positions.items():
            if path[:depth] == inner_overlay:
                positions[(*inner_target, *path[depth:])] = located
