"""File selection: walk a source folder and decide, path by path, what may be uploaded.

Pure of output: problems come back as `SelectionWarning` data, never printed here.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Final, NamedTuple

from opendeploy_plan.source._cache import RACY_WINDOW_NS, collector_paused
from opendeploy_plan.source._errors import SourceError, SourceOutsideRoot
from opendeploy_plan.source._listing import (
    RULES_SEED,
    FolderKey,
    FolderListing,
    ListingCache,
    Listings,
    chain_rules,
)
from opendeploy_plan.source._names import (
    hard_links_to_secrets,
    large_files,
    refuse_unsafe_names,
)
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
_OWNER_EXECUTES: Final = stat.S_IXUSR


def normalized_mode(st_mode: int) -> int:
    """Git's two file modes: executable (owner x bit) or not; nothing else of umask survives."""
    return EXECUTABLE_MODE if st_mode & _OWNER_EXECUTES else REGULAR_MODE


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

    `excluded_secrets` lists the paths (names only, never contents) held back as secrets;
    `reasons` says why for those not held back by a name pattern (see `why`).
    """

    root: Path
    files: tuple[SelectedFile, ...]
    warnings: tuple[SelectionWarning, ...] = ()
    excluded_secrets: tuple[str, ...] = ()
    reasons: Mapping[str, str] = field(default_factory=dict)

    def why(self, path: str) -> str:
        """Why `path` (one of `excluded_secrets`) was kept home, in a few words."""
        reason = self.reasons.get(path)
        if reason is not None:
            return reason
        pattern = secret_path_pattern(path)
        return f"matches {pattern}" if pattern is not None else "a secret"

    def holding_back(self, held: Mapping[str, str]) -> Selection:
        """This selection without the files in `held` (path -> reason), which join the
        secrets kept home."""
        return Selection(
            root=self.root,
            files=tuple(f for f in self.files if f.path not in held),
            warnings=self.warnings,
            excluded_secrets=tuple(sorted({*self.excluded_secrets, *held})),
            reasons={**self.reasons, **held},
        )

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    def changes_since(self, earlier: Selection) -> list[str]:
        """What differs from an earlier selection of the same root: `path (added)`, then
        `path (removed)`, then `path (changed)`, each group by path. "Changed" compares size,
        mode and the stat fields, so it also names files only touched since; those whose size
        or mode changed come first, as the likelier culprits."""
        before = {f.path: f[2:] for f in earlier.files}
        after = {f.path: f[2:] for f in self.files}
        ranked = [(0, p, "added") for p in after.keys() - before.keys()]
        ranked += [(1, p, "removed") for p in before.keys() - after.keys()]
        ranked += [
            (2 if after[p][:2] != before[p][:2] else 3, p, "changed")
            for p in after.keys() & before.keys()
            if after[p] != before[p]
        ]
        return [f"{path} ({what})" for _, path, what in sorted(ranked)]

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
            reasons={p: r for p, r in self.reasons.items() if p.startswith(head)},
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
    for part in PurePosixPath(text).parts:  # pathlib drops empty and `.` parts already
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
        folder = root / sub  # root / "" is root
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


def _read_text(path: str) -> str | None:
    """An ignore file's text; None when it is missing, unreadable or not a regular file (a
    fifo would block, a folder cannot be read): then it has no rules, as for git."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with open(fd, "rb", closefd=False) as handle:
            return handle.read().decode("utf-8", "surrogateescape")  # whatever the locale
    except OSError:
        return None
    finally:
        os.close(fd)


def _ancestor_layers(root: Path) -> tuple[list[IgnoreLayer], str]:
    """`.gitignore` files between the enclosing git work tree's top and the root apply too,
    as they do for git; `.git/info/exclude` and global excludes are machine-local: not read.
    Returns the layers and the rules fingerprint they start the walk with."""
    fingerprint = RULES_SEED
    top = _git_toplevel(root)
    if top is None or top == root:
        return [], fingerprint
    layers: list[IgnoreLayer] = []
    ancestors = [root.parents[i] for i in range(len(root.relative_to(top).parts))]
    for folder in reversed(ancestors):
        prefix = root.relative_to(folder).as_posix() + "/"
        text = _read_text(str(folder / GITIGNORE))
        if text is not None:
            fingerprint = chain_rules(fingerprint, prefix, text)
            rules = IgnoreRules.parse(text)
            if rules.patterns:
                layers.append(IgnoreLayer(rules, prefix))
    return layers, fingerprint


@dataclass
class _Walk:
    root: Path
    real_root: str
    listing: ListingCache | None = None
    files: dict[str, SelectedFile] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)
    folders: set[str] = field(default_factory=set)
    warnings: list[SelectionWarning] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    def warn(self, path: str, code: str, message: str) -> None:
        self.warnings.append(SelectionWarning(path, code, message))

    def special(self, rel: str) -> None:
        self.warn(rel, "special-file", "not a regular file (fifo, socket or device); skipped")


@dataclass(frozen=True)
class _Rules:
    """The ignore layers in effect in one folder, and their fingerprint (for the listing cache)."""

    git: list[IgnoreLayer]
    odplan: list[IgnoreLayer]
    fingerprint: str

    def enter(self, folder: str, prefix: str, rule_files: Collection[str]) -> _Rules:
        """Add the folder's own ignore files (`rule_files`: which of them it has)."""
        rules = self
        for name in (GITIGNORE, ODPLANIGNORE):
            if name not in rule_files:
                continue
            text = _read_text(os.path.join(folder, name))
            parsed = IgnoreRules.parse(text) if text is not None else None
            layers = [IgnoreLayer(parsed, "", len(prefix))] if parsed and parsed.patterns else []
            fingerprint = chain_rules(rules.fingerprint, prefix + name, text)
            if name == GITIGNORE:
                rules = _Rules([*rules.git, *layers], rules.odplan, fingerprint)
            else:
                rules = _Rules(rules.git, [*rules.odplan, *layers], fingerprint)
        return rules


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


def _folder_key(info: os.stat_result) -> FolderKey:
    return (info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def _selected(rel: str, path: str, info: os.stat_result) -> SelectedFile:
    return SelectedFile(
        rel,
        path,
        info.st_size,
        normalized_mode(info.st_mode),
        info.st_mtime_ns,
        info.st_ctime_ns,
        info.st_ino,
    )


def _walk(walk: _Walk, folder: str, prefix: str, rules: _Rules, key: FolderKey) -> None:
    """Select under `folder` (root-relative `prefix`): from the listing cache when the folder
    and its rules are unchanged, else by listing it."""
    if walk.listing is not None:
        recalled = walk.listing.recall(prefix, key)
        if recalled is not None:
            fingerprint, listing = recalled
            inner = rules.enter(folder, prefix, listing.rule_files)
            if inner.fingerprint == fingerprint and _replay(walk, folder, prefix, inner, listing):
                walk.listing.keep(prefix)
                return
    _scan(walk, folder, prefix, rules, key)


def _replay(walk: _Walk, folder: str, prefix: str, rules: _Rules, listing: FolderListing) -> bool:
    """Take a recorded listing: one lstat per selected file, folder and link, each checked for
    its recorded type. Anything unexpected returns False before the walk is touched, and so
    does a folder this process may no longer list (a fresh walk would warn about it)."""
    if not os.access(folder, os.R_OK | os.X_OK):
        return False
    head = folder + os.sep
    lstat, new = os.lstat, tuple.__new__
    is_reg, is_dir, is_link = stat.S_ISREG, stat.S_ISDIR, stat.S_ISLNK
    files: dict[str, SelectedFile] = {}
    dirs: list[tuple[str, os.stat_result]] = []
    try:
        for name in listing.files:  # the warm path's hot loop: one lstat per selected file
            source = head + name
            info = lstat(source)
            mode = info.st_mode
            if not is_reg(mode):
                return False
            rel = prefix + name
            # `_selected`, inlined: calls and NamedTuple's keyword __new__ cost ~10% of a warm walk.
            files[rel] = new(
                SelectedFile,
                (
                    rel,
                    source,
                    info.st_size,
                    EXECUTABLE_MODE if mode & _OWNER_EXECUTES else REGULAR_MODE,
                    info.st_mtime_ns,
                    info.st_ctime_ns,
                    info.st_ino,
                ),
            )
        for name in listing.dirs:
            info = lstat(head + name)
            if not is_dir(info.st_mode):
                return False
            dirs.append((name, info))
        if not all(is_link(lstat(head + name).st_mode) for name in listing.links):
            return False
    except (OSError, ValueError):  # ValueError: a name no file system accepts (NUL)
        return False
    walk.files.update(files)
    walk.links.extend((prefix + name, head + name) for name in listing.links)
    for name in listing.specials:
        walk.special(prefix + name)
    for name, info in dirs:
        walk.folders.add(prefix + name)
        _walk(walk, head + name, prefix + name + "/", rules, _folder_key(info))
    return True


def _scan(walk: _Walk, folder: str, prefix: str, rules: _Rules, key: FolderKey) -> None:
    """List the folder and decide every entry; record the listing when it may be reused."""
    try:
        with os.scandir(folder) as scan:
            entries = list(scan)
    except OSError as exc:
        walk.warn(prefix or ".", "unreadable", f"cannot list folder: {exc.strerror}")
        return
    rule_files = tuple(e.name for e in entries if e.name in (GITIGNORE, ODPLANIGNORE))
    rules = rules.enter(folder, prefix, rule_files)
    # The hot loop of a changed folder: file type from readdir, one lstat per regular file.
    excluded = _exclusion(rules.git, rules.odplan)
    files: list[str] = []
    dirs: list[str] = []
    links: list[str] = []
    specials: list[str] = []
    recordable = True  # no secret here and every entry decided (ListingCache.store)
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
                recordable = False
                continue
        if is_secret_name(name):
            walk.secrets.append(rel)
            recordable = False
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                if not excluded(rel, name, True):
                    inner_key = _folder_key(entry.stat(follow_symlinks=False))
                    dirs.append(name)
                    walk.folders.add(rel)
                    _walk(walk, entry.path, rel + "/", rules, inner_key)
            elif entry.is_symlink():
                if not excluded(rel, name, False):
                    links.append(name)
                    walk.links.append((rel, entry.path))
            elif entry.is_file(follow_symlinks=False):
                if not excluded(rel, name, False):
                    files.append(name)
                    walk.files[rel] = _selected(rel, entry.path, entry.stat(follow_symlinks=False))
            else:
                specials.append(name)
                walk.special(rel)
        except OSError as exc:
            walk.warn(rel, "unreadable", f"cannot stat: {exc.strerror}")
            recordable = False
    if walk.listing is not None and recordable:
        listing = FolderListing(
            tuple(files), tuple(dirs), tuple(links), tuple(specials), rule_files
        )
        walk.listing.store(prefix, key, rules.fingerprint, listing)


def _inside(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root + os.sep)


def _resolve_links(walk: _Walk) -> list[str]:
    """Symlink policy: a link to a selected file inside the root is stored as a regular file
    with the target's content and mode; a link to a folder inside the root stores that folder's
    selected files under the link's path. Links outside the root, dangling, into excluded
    paths, or looping back into their own parent are skipped with a warning. Returns the links
    held back because their target is a secret.

    Links are resolved against the files the walk found (a snapshot), never against what an
    earlier link added: links inside a linked folder are not followed a second time, and the
    result does not depend on the order the file system listed the links in."""
    if not walk.links:
        return []
    found_files = dict(walk.files)
    secret_links: list[str] = []
    for rel, path in sorted(walk.links):
        real = os.path.realpath(path)
        if not _inside(real, walk.real_root):
            walk.warn(rel, "symlink-outside", "symlink points outside the source folder; skipped")
            continue
        target = os.path.relpath(real, walk.real_root).replace(os.sep, "/")
        if secret_path_pattern(target) is not None:
            walk.secrets.append(rel)
            secret_links.append(rel)
            continue
        if target in found_files:
            walk.files[rel] = _relocated(found_files[target], rel)
            continue
        if target == "." or target in walk.folders:
            parent = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
            if target == "." or parent.startswith(target + "/"):
                walk.warn(rel, "symlink-loop", "symlink loops back into its own parent; skipped")
                continue
            head = target + "/"
            inner = [f for key, f in found_files.items() if key.startswith(head)]
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
    return secret_links


# odplan's own manifest is configuration, not source: editing it (a comment, a resize) must not
# change the digest and so redeploy every service.
MANIFEST_NAMES: Final = frozenset({"opendeploy.yaml", "opendeploy.yml"})


def select_files(
    root: str | os.PathLike[str],
    *,
    manifest: str | os.PathLike[str] | None = None,
    secret_files: Collection[str] = (),
    listings: Listings = "off",
    racy_window_ns: int = RACY_WINDOW_NS,
) -> Selection:
    """Every file under `root` that may be uploaded, with warnings and held-back secrets.

    The manifest at the root (`opendeploy.yaml`/`.yml`, or `manifest` when it lies in `root`)
    is never selected. `secret_files` (root-relative paths, e.g. the manifest's `env_files`)
    are held back like the built-in secret patterns, whatever their names.

    `listings` is the folder listing cache (`_listing`): "reuse" answers unchanged folders from
    it (`odplan plan`), "refresh" walks afresh and records what it saw (`odplan apply`'s plan),
    "off" neither reads nor writes it (archives, `odplan package`). Raises SourceError when
    `root` is not a readable folder.
    """
    base = Path(root).absolute()
    if not base.is_dir():
        raise SourceError(f"{base}: not a folder")
    listing = None
    if listings != "off":
        listing = ListingCache(base, reuse=listings == "reuse", racy_window_ns=racy_window_ns)
    walk = _Walk(base, os.path.realpath(base), listing)
    layers, fingerprint = _ancestor_layers(base)
    with collector_paused():
        _walk(walk, str(base), "", _Rules(layers, [], fingerprint), _folder_key(os.stat(base)))
    secret_links = _resolve_links(walk)
    left_out = set(MANIFEST_NAMES)
    if manifest is not None and Path(manifest).absolute().parent == base:
        left_out.add(Path(manifest).name)
    named_secrets = set()
    for path in secret_files:
        try:
            named_secrets.add(normalize_subpath(path))
        except SourceError:
            continue  # outside the root: it cannot be in the archive anyway
    held_back = sorted(path for path in named_secrets if path in walk.files)
    walk.secrets.extend(held_back)
    left_out |= named_secrets
    reasons = {path: "read by the manifest for secrets (env_files)" for path in held_back}
    reasons.update((path, "symlink to a secret") for path in secret_links)
    linked = hard_links_to_secrets(
        {p: (f.source, f.inode) for p, f in walk.files.items() if p not in left_out},
        walk.root,
        set(walk.secrets),
    )
    walk.secrets.extend(linked)
    reasons.update(linked)
    left_out |= set(linked)
    if listing is not None:
        # The cache never names a file held back as a secret: its folder is listed every time.
        for path in [*held_back, *secret_links, *linked]:
            listing.discard(path.rpartition("/")[0] + "/" if "/" in path else "")
        listing.save()
    files = tuple(walk.files[key] for key in sorted(walk.files) if key not in left_out)
    refuse_unsafe_names(f.path for f in files)
    for path, message in large_files((f.path, f.source, f.size) for f in files):
        walk.warn(path, "large-file", message)
    return Selection(
        root=base,
        files=files,
        warnings=tuple(sorted(walk.warnings, key=lambda w: w.path)),
        excluded_secrets=tuple(sorted(set(walk.secrets))),
        reasons=reasons,
    )
