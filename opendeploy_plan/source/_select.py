"""File selection: walk a source folder and decide, path by path, what may be uploaded.

Pure of output: problems come back as `SelectionWarning` data, never printed here.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Final, NamedTuple

from opendeploy_plan.source._errors import SourceError, SourceOutsideRoot
from opendeploy_plan.source._rules import (
    ALWAYS_SKIPPED_NAMES,
    GITIGNORE,
    ODPLANIGNORE,
    IgnoreLayer,
    IgnoreRules,
    is_default_ignored,
    is_secret_name,
    secret_path_pattern,
)

EXECUTABLE_MODE = 0o100755
REGULAR_MODE = 0o100644


def normalized_mode(st_mode: int) -> int:
    """Git's two file modes: executable (owner x bit) or not; nothing else of umask survives."""
    return EXECUTABLE_MODE if st_mode & stat.S_IXUSR else REGULAR_MODE


class SelectedFile(NamedTuple):
    """A file that will be uploaded: `path` is POSIX and relative to the selection root;
    `source` is what is read (the target, for a symlink). Stat fields key the digest cache."""

    path: str
    source: str
    size: int
    mode: int
    mtime_ns: int
    ctime_ns: int
    inode: int


@dataclass(frozen=True)
class SelectionWarning:
    """Something skipped that a user may want to know about (`code` is stable, for tools)."""

    path: str
    code: str
    message: str


@dataclass(frozen=True)
class Selection:
    """Exactly the files to upload, sorted by path, plus what was kept home and why.

    `excluded_secrets` lists the paths (names only, never contents) held back as secrets.
    """

    root: Path
    files: tuple[SelectedFile, ...]
    warnings: tuple[SelectionWarning, ...] = ()
    excluded_secrets: tuple[str, ...] = ()

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    def subtree(self, subpath: str) -> Selection:
        """The files under `subpath` (root-relative), with paths made relative to it."""
        prefix = normalize_subpath(subpath)
        if not prefix:
            return self
        head = prefix + "/"
        return Selection(
            root=self.root / prefix,
            files=tuple(
                _relocated(f, f.path[len(head) :]) for f in self.files if f.path.startswith(head)
            ),
            warnings=tuple(w for w in self.warnings if w.path.startswith(head)),
            excluded_secrets=tuple(p for p in self.excluded_secrets if p.startswith(head)),
        )


def _relocated(file: SelectedFile, path: str) -> SelectedFile:
    return SelectedFile(
        path, file.source, file.size, file.mode, file.mtime_ns, file.ctime_ns, file.inode
    )


def normalize_subpath(subpath: str) -> str:
    """`./services/api/` -> `services/api`; `.` or `` -> ``. Rejects paths leaving the root."""
    text = subpath.replace("\\", "/")
    if text.startswith("/"):
        raise SourceOutsideRoot(f"source path {subpath!r} must be relative to the manifest folder")
    parts: list[str] = []
    for part in PurePosixPath(text).parts:
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise SourceOutsideRoot(
                    f"source path {subpath!r} leaves the manifest folder; the project archive "
                    "is that folder, so a service's source must be inside it"
                )
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def service_subpaths(root: Path, sources: Mapping[str, str]) -> dict[str, str]:
    """Normalize each service's `source` and check that it is an existing folder under root."""
    result: dict[str, str] = {}
    for name, source in sources.items():
        sub = normalize_subpath(source)
        folder = root / sub if sub else root
        if not folder.is_dir():
            raise SourceError(f"service {name!r}: source folder {source!r} does not exist")
        real_root = os.path.realpath(root)
        real = os.path.realpath(folder)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise SourceOutsideRoot(
                f"service {name!r}: source {source!r} resolves outside the manifest folder"
            )
        result[name] = sub
    return result


def check_service_subtrees(selection: Selection, subpaths: Mapping[str, str]) -> None:
    """Raise SourceError when a service's folder would be uploaded empty: the platform would
    find nothing to build there (e.g. `source: dist` while `dist/` is a built-in skip)."""
    for name, sub in subpaths.items():
        head = sub + "/" if sub else ""
        if not any(f.path.startswith(head) for f in selection.files):
            shown = sub or "."
            raise SourceError(
                f"service {name!r}: no file under {shown!r} would be uploaded (the folder is "
                f"empty or excluded); if it is a build output, add `!{shown}/` to .odplanignore"
            )


def _git_toplevel(root: Path) -> Path | None:
    for folder in (root, *root.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _read_rules(path: str) -> IgnoreRules | None:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            rules = IgnoreRules.parse(handle.read())
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    return rules if rules.patterns else None


def _ancestor_layers(root: Path) -> list[IgnoreLayer]:
    """`.gitignore` files between the enclosing git work tree's top and the root apply too,
    as they do for git; `.git/info/exclude` and global excludes are machine-local: not read."""
    top = _git_toplevel(root)
    if top is None or top == root:
        return []
    layers: list[IgnoreLayer] = []
    ancestors = [root.parents[i] for i in range(len(root.relative_to(top).parts))]
    for folder in reversed(ancestors):
        rules = _read_rules(str(folder / GITIGNORE))
        if rules is not None:
            prefix = root.relative_to(folder).as_posix() + "/"
            layers.append(IgnoreLayer(rules, prefix, 0))
    return layers


@dataclass
class _Walk:
    root: Path
    real_root: str
    files: dict[str, SelectedFile] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)
    folders: set[str] = field(default_factory=set)
    warnings: list[SelectionWarning] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    def warn(self, path: str, code: str, message: str) -> None:
        self.warnings.append(SelectionWarning(path, code, message))


def _exclusion(
    git: list[IgnoreLayer], odplan: list[IgnoreLayer]
) -> Callable[[str, str, bool], bool]:
    """The exclusion test for one folder's entries (ignore layers flattened once per folder).

    Precedence: .odplanignore (deepest first) > .gitignore (deepest first) > built-ins.
    A `.gitignore` negation only cancels a `.gitignore` match; only `.odplanignore` may
    re-include a built-in skip such as `dist/`. Secrets and VCS folders are decided earlier.
    """
    od = [(layer.prefix, layer.strip, layer.rules.verdict) for layer in reversed(odplan)]
    gi = [(layer.prefix, layer.strip, layer.rules.verdict) for layer in reversed(git)]
    if not od and not gi:
        return lambda rel, name, is_dir: is_default_ignored(name, is_dir)

    def excluded(rel: str, name: str, is_dir: bool) -> bool:
        for prefix, strip, verdict_of in od:
            verdict = verdict_of(prefix + rel[strip:], is_dir)
            if verdict is not None:
                return verdict
        for prefix, strip, verdict_of in gi:
            verdict = verdict_of(prefix + rel[strip:], is_dir)
            if verdict is not None:
                if verdict:
                    return True
                break
        return is_default_ignored(name, is_dir)

    return excluded


def _walk(
    walk: _Walk,
    folder: str,
    prefix: str,
    git: list[IgnoreLayer],
    odplan: list[IgnoreLayer],
) -> None:
    try:
        with os.scandir(folder) as scan:
            entries = list(scan)
    except OSError as exc:
        walk.warn(prefix or ".", "unreadable", f"cannot list folder: {exc.strerror}")
        return
    names = {entry.name for entry in entries}
    if GITIGNORE in names and (rules := _read_rules(os.path.join(folder, GITIGNORE))):
        git = [*git, IgnoreLayer(rules, "", len(prefix))]
    if ODPLANIGNORE in names and (rules := _read_rules(os.path.join(folder, ODPLANIGNORE))):
        odplan = [*odplan, IgnoreLayer(rules, "", len(prefix))]
    # The hot loop of an unchanged tree: file type from readdir, one lstat per regular file.
    excluded = _exclusion(git, odplan)
    for entry in entries:
        name = entry.name
        if name in ALWAYS_SKIPPED_NAMES:
            continue
        rel = prefix + name
        if not name.isascii():
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                walk.warn(rel, "bad-name", "file name is not valid UTF-8; skipped")
                continue
        if is_secret_name(name):
            walk.secrets.append(rel)
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                if not excluded(rel, name, True):
                    walk.folders.add(rel)
                    _walk(walk, entry.path, rel + "/", git, odplan)
            elif entry.is_symlink():
                if not excluded(rel, name, False):
                    walk.links.append((rel, entry.path))
            elif entry.is_file(follow_symlinks=False):
                if not excluded(rel, name, False):
                    info = entry.stat(follow_symlinks=False)
                    walk.files[rel] = SelectedFile(
                        rel,
                        entry.path,
                        info.st_size,
                        normalized_mode(info.st_mode),
                        info.st_mtime_ns,
                        info.st_ctime_ns,
                        info.st_ino,
                    )
            else:
                walk.warn(
                    rel, "special-file", "not a regular file (fifo, socket or device); skipped"
                )
        except OSError as exc:
            walk.warn(rel, "unreadable", f"cannot stat: {exc.strerror}")


def _inside(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root + os.sep)


def _resolve_links(walk: _Walk) -> None:
    """Symlink policy: a link to a selected file inside the root is stored as a regular file
    with the target's content and mode; a link to a folder inside the root stores that folder's
    selected files under the link's path. Links outside the root, dangling, into excluded
    paths, or looping back into their own parent are skipped with a warning."""
    for rel, path in walk.links:
        real = os.path.realpath(path)
        if not _inside(real, walk.real_root):
            walk.warn(rel, "symlink-outside", "symlink points outside the source folder; skipped")
            continue
        target = os.path.relpath(real, walk.real_root).replace(os.sep, "/")
        if secret_path_pattern(target) is not None:
            walk.secrets.append(rel)
            continue
        if target in walk.files:
            found = walk.files[target]
            walk.files[rel] = _relocated(found, rel)
            continue
        if target == "." or target in walk.folders:
            parent = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
            if target == "." or parent.startswith(target + "/"):
                walk.warn(rel, "symlink-loop", "symlink loops back into its own parent; skipped")
                continue
            head = target + "/"
            inner = [f for key, f in walk.files.items() if key.startswith(head)]
            for found in inner:
                walk.files[rel + "/" + found.path[len(head) :]] = _relocated(
                    found, rel + "/" + found.path[len(head) :]
                )
            continue
        if not os.path.exists(real):
            walk.warn(rel, "symlink-dangling", "symlink target does not exist; skipped")
        else:
            walk.warn(
                rel, "symlink-excluded", f"symlink target {target} is not uploaded; link skipped"
            )


# odplan's own manifest is configuration, not source: editing it (a comment, a resize) must not
# change the digest and so redeploy every service.
MANIFEST_NAMES: Final = frozenset({"opendeploy.yaml", "opendeploy.yml"})


def select_files(
    root: str | os.PathLike[str],
    *,
    manifest: str | os.PathLike[str] | None = None,
    secret_files: Collection[str] = (),
) -> Selection:
    """Every file under `root` that may be uploaded, with warnings and held-back secrets.

    The manifest at the root (`opendeploy.yaml`/`.yml`, or `manifest` when it lies in `root`)
    is never selected. `secret_files` (root-relative paths, e.g. the manifest's `env_files`)
    are held back like the built-in secret patterns, whatever their names. Raises SourceError
    when `root` is not a readable folder.
    """
    base = Path(root).absolute()
    if not base.is_dir():
        raise SourceError(f"{base}: not a folder")
    walk = _Walk(base, os.path.realpath(base))
    _walk(walk, str(base), "", _ancestor_layers(base), [])
    _resolve_links(walk)
    left_out = set(MANIFEST_NAMES)
    if manifest is not None and Path(manifest).absolute().parent == base:
        left_out.add(Path(manifest).name)
    named_secrets = set()
    for path in secret_files:
        try:
            named_secrets.add(normalize_subpath(path))
        except SourceError:
            continue  # outside the root: it cannot be in the archive anyway
    walk.secrets.extend(sorted(named_secrets & set(walk.files)))
    left_out |= named_secrets
    return Selection(
        root=base,
        files=tuple(walk.files[key] for key in sorted(walk.files) if key not in left_out),
        warnings=tuple(sorted(walk.warnings, key=lambda w: w.path)),
        excluded_secrets=tuple(sorted(walk.secrets)),
    )


def iter_paths(selection: Selection) -> Iterator[str]:
    """The selected paths in archive order."""
    return (f.path for f in selection.files)
