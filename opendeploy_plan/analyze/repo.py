"""A read-only view of a repository: files listed once, small files read lazily and cached."""

from __future__ import annotations

import fnmatch
import json
import os
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, Final

import json5
import yaml

# analyze-local.md §1: never recurse into these; the rest are build outputs and caches of the
# same kind for the ecosystems we detect.
SKIPPED_DIRS: Final = frozenset(
    {
        "node_modules",
        ".git",
        "dist",
        "target",
        "vendor",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".next",
        ".nuxt",
        ".output",
        ".svelte-kit",
        ".astro",
        ".turbo",
        ".gradle",
        ".idea",
        ".vscode",
        "_build",
        ".dart_tool",
        ".stack-work",
        "dist-newstyle",
        "zig-cache",
        ".zig-cache",
        "zig-out",
        ".build",
        "obj",
        ".opendeploy",
        ".hypothesis",
        ".cache",
        ".nyc_output",
        "htmlcov",
        "coverage",
    }
)
MAX_LISTED_FILES: Final = 50_000
DEFAULT_READ_LIMIT: Final = 512 * 1024


class RepoView:
    """The files of one folder tree, listed once; reads are lazy, cached and size-capped.

    Paths are POSIX strings relative to the root (`services/api/package.json`). Files larger
    than the read limit or not valid UTF-8 read as None, so a detector never sees binary data.
    """

    def __init__(self, root: Path, *, max_files: int = MAX_LISTED_FILES) -> None:
        self.root = root.resolve()
        files: list[str] = []
        truncated = False
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
            rel_dir = os.path.relpath(dirpath, self.root)
            for filename in sorted(filenames):
                rel = filename if rel_dir == "." else f"{rel_dir}/{filename}"
                files.append(rel.replace(os.sep, "/"))
            if len(files) >= max_files:
                truncated = True
                break
        self.files: tuple[str, ...] = tuple(files[:max_files])
        self.truncated = truncated
        self._file_set = frozenset(self.files)
        self._texts: dict[str, str | None] = {}

    def exists(self, rel: str) -> bool:
        return rel in self._file_set

    def first_existing(self, folder: str, *names: str) -> str | None:
        """The first of `names` (relative to `folder`) that exists, as a root-relative path."""
        for name in names:
            rel = join(folder, name)
            if rel in self._file_set:
                return rel
        return None

    def read(self, rel: str, limit: int = DEFAULT_READ_LIMIT) -> str | None:
        if rel in self._texts:
            return self._texts[rel]
        text: str | None = None
        if rel in self._file_set:
            path = self.root / rel
            try:
                if path.stat().st_size <= limit:
                    text = path.read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError):
                text = None
        self._texts[rel] = text
        return text

    def json(self, rel: str) -> dict[str, Any] | None:
        text = self.read(rel)
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def json5(self, rel: str) -> dict[str, Any] | None:
        """A JSON5/JSONC file (`package.json5`, `deno.jsonc`): comments, trailing commas."""
        text = self.read(rel)
        if text is None:
            return None
        try:
            data = json5.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def toml(self, rel: str) -> dict[str, Any] | None:
        text = self.read(rel)
        if text is None:
            return None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return None

    def yaml(self, rel: str) -> Any:
        text = self.read(rel)
        if text is None:
            return None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            return None

    def under(self, folder: str) -> Iterator[str]:
        """Every listed file inside `folder` (all files when folder is `.`)."""
        if folder in ("", "."):
            yield from self.files
            return
        prefix = folder.rstrip("/") + "/"
        for rel in self.files:
            if rel.startswith(prefix):
                yield rel

    def in_folder(self, folder: str) -> list[str]:
        """Files directly inside `folder` (not in its subfolders), as root-relative paths."""
        prefix = "" if folder in ("", ".") else folder.rstrip("/") + "/"
        return [f for f in self.under(folder) if "/" not in f[len(prefix) :]]

    def glob(self, folder: str, pattern: str) -> list[str]:
        """Files under `folder` whose folder-relative path matches an fnmatch pattern."""
        prefix = "" if folder in ("", ".") else folder.rstrip("/") + "/"
        return [f for f in self.under(folder) if fnmatch.fnmatch(f[len(prefix) :], pattern)]

    def subfolders(self, folder: str) -> list[str]:
        """Immediate child folders of `folder` that contain at least one listed file."""
        prefix = "" if folder in ("", ".") else folder.rstrip("/") + "/"
        children: set[str] = set()
        for rel in self.under(folder):
            rest = rel[len(prefix) :]
            if "/" in rest:
                children.add(prefix + rest.split("/", 1)[0])
        return sorted(children)


def join(folder: str, name: str) -> str:
    """Join a root-relative folder and a name, treating `.` as the root."""
    if folder in ("", "."):
        return name
    return str(PurePosixPath(folder) / name)


def relative_to(folder: str, rel: str) -> str:
    """`rel` relative to `folder` (both root-relative)."""
    if folder in ("", "."):
        return rel
    return rel[len(folder.rstrip("/")) + 1 :] if rel.startswith(folder.rstrip("/") + "/") else rel
