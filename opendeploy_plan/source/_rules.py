"""Which paths may leave the machine: secret patterns, built-in skips and ignore-file rules.

Ignore files use gitignore(5) syntax. Each pattern is compiled to a regex that matches one path
exactly (not its descendants): the walker prunes an ignored directory itself, which is how git
makes "a file inside an excluded directory cannot be re-included" true.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from opendeploy_plan.platform import SECRET_FILE_PATTERNS as PLATFORM_SECRET_PATTERNS

# More credentials than the skill's list names (issue 17): tool folders that hold credentials
# (`.aws/credentials`, `.ssh/id_*`, `.docker/config.json`, `.kube/config`, …), credential
# files of git, Postgres and Terraform, keystores, and the usual secrets files. Files holding a
# private key whatever their names are caught by content (`_scan.secret_content`).
EXTRA_SECRET_PATTERNS: Final = (
    ".aws",
    ".ssh",
    ".docker",
    ".kube",
    ".gnupg",
    ".azure",
    ".git-credentials",
    ".pgpass",
    ".htpasswd",
    "id_dsa*",
    "id_ecdsa*",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.tfvars",
    "*.tfvars.json",
    "*.tfstate",
    "*.tfstate.*",
    "secrets.yaml",
    "secrets.yml",
    "secrets.json",
    "*-sa.json",
    "application_default_credentials.json",
)
SECRET_FILE_PATTERNS: Final = (*PLATFORM_SECRET_PATTERNS, *EXTRA_SECRET_PATTERNS)

# Never entered and never re-includable: VCS metadata (may hold credentials in remotes or hooks)
# and odplan's own working folder (cache, archives).
ALWAYS_SKIPPED_NAMES: Final = frozenset({".git", ".hg", ".svn", ".opendeploy"})

# Build outputs and dependency folders from the skill's zip command (deploy.md step 4.a).
# A `.odplanignore` negation (e.g. `!dist/`) may re-include them.
DEFAULT_IGNORE_PATTERNS: Final = (
    "node_modules/",
    "dist/",
    "build/",
    "target/",
    ".venv/",
    "__pycache__/",
    "*.pyc",
)

GITIGNORE: Final = ".gitignore"
ODPLANIGNORE: Final = ".odplanignore"

_POSIX_CLASSES: Final = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "digit": "0-9",
    "lower": "a-z",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}


class _BadPattern(ValueError):
    """A pattern git would never match (e.g. an unterminated `[`): skipped, as git does."""


@dataclass(frozen=True)
class IgnorePattern:
    """One compiled ignore line: `regex` matches a path (relative to the file's folder) exactly."""

    source: str
    regex: str
    negated: bool
    dir_only: bool
    anchored: bool = True
    # For an unanchored pattern (no slash), the regex for the last path component alone.
    name_regex: str = ""


def _bracket(glob: str, start: int) -> tuple[str, int]:
    """Translate the bracket expression starting at `glob[start] == '['`; return (regex, end)."""
    i = start + 1
    negate = i < len(glob) and glob[i] in "!^"
    if negate:
        i += 1
    parts: list[str] = []
    first = True
    while i < len(glob):
        char = glob[i]
        if char == "]" and not first:
            body = "".join(parts)
            return (f"[^/{body}]" if negate else f"[{body}]"), i + 1
        first = False
        if char == "[" and glob.startswith("[:", i):
            close = glob.find(":]", i + 2)
            if close != -1 and glob[i + 2 : close] in _POSIX_CLASSES:
                parts.append(_POSIX_CLASSES[glob[i + 2 : close]])
                i = close + 2
                continue
        escaped = char == "\\" and i + 1 < len(glob)
        if escaped:
            i += 1
            char = glob[i]
        # An escaped "-" is a literal dash, never a range (git's wildmatch).
        if char == "-" and not escaped and parts and i + 1 < len(glob) and glob[i + 1] != "]":
            parts.append("-")
        else:
            parts.append(re.escape(char) if char not in "-" else "\\-")
        i += 1
    raise _BadPattern(glob)


def _segment_regex(segment: str) -> str:
    """Translate one path segment of a glob (`*`, `?`, `[...]`, `\\x`) to a regex."""
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            while i + 1 < len(segment) and segment[i + 1] == "*":
                i += 1  # "Other consecutive asterisks are considered regular asterisks."
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            regex, i = _bracket(segment, i)
            out.append(regex)
            continue
        elif char == "\\":
            if i + 1 == len(segment):
                raise _BadPattern(segment)  # a trailing backslash: git never matches it
            i += 1
            out.append(re.escape(segment[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _strip_trailing_spaces(line: str) -> str:
    """Trailing spaces are dropped unless escaped with a backslash (gitignore(5))."""
    end = len(line)
    while end > 0 and line[end - 1] == " ":
        backslashes = 0
        j = end - 2
        while j >= 0 and line[j] == "\\":
            backslashes += 1
            j -= 1
        if backslashes % 2 == 1:
            break
        end -= 1
    return line[:end]


def compile_pattern(line: str) -> IgnorePattern | None:
    """Compile one gitignore line, or None for blanks, comments and patterns git never matches."""
    text = _strip_trailing_spaces(line.rstrip("\r\n"))
    if not text or text.startswith("#"):
        return None
    negated = text.startswith("!")
    if negated:
        text = text[1:]
    dir_only = text.endswith("/")
    text = text.rstrip("/") if dir_only else text
    if not text:
        return None
    anchored = "/" in text
    segments = text.lstrip("/").split("/") if text.startswith("/") else text.split("/")
    out: list[str] = []
    try:
        for index, segment in enumerate(segments):
            last = index == len(segments) - 1
            if segment == "**":
                out.append(".+" if last else "(?:.+/)?")
                continue
            out.append(_segment_regex(segment))
            if not last:
                out.append("/")
    except _BadPattern:
        return None
    name_regex = "".join(out)
    regex = name_regex if anchored else "(?:.+/)?" + name_regex
    return IgnorePattern(line.rstrip("\r\n"), regex, negated, dir_only, anchored, name_regex)


class IgnoreRules:
    """The patterns of one ignore file; `verdict` says ignored (True), re-included (False)
    or no opinion (None) for a path relative to that file's folder.

    The last matching pattern wins, so patterns are tried in reverse inside one combined regex
    per kind (files skip directory-only patterns).
    """

    def __init__(self, patterns: Sequence[IgnorePattern]) -> None:
        self.patterns = tuple(patterns)
        self._negated = [p.negated for p in self.patterns]
        # The common case (every pattern without a slash, like `*.log` or `coverage/`) only
        # ever looks at the last path component: match that instead of the whole path.
        self.names_only = all(not p.anchored for p in self.patterns)
        self._for_dirs = self._combine(range(len(self.patterns)))
        self._for_files = self._combine(i for i, p in enumerate(self.patterns) if not p.dir_only)

    def _combine(self, indexes: Iterable[int]) -> re.Pattern[str] | None:
        alternatives = [
            f"(?P<p{i}>{p.name_regex if self.names_only else p.regex})"
            for i in sorted(indexes)[::-1]
            for p in (self.patterns[i],)
        ]
        return re.compile("|".join(alternatives), re.DOTALL) if alternatives else None

    @classmethod
    def parse(cls, text: str) -> IgnoreRules:
        compiled = (compile_pattern(line) for line in text.splitlines())
        return cls([pattern for pattern in compiled if pattern is not None])

    def verdict(self, path: str, is_dir: bool) -> bool | None:
        regex = self._for_dirs if is_dir else self._for_files
        if regex is None:
            return None
        if self.names_only:
            path = path.rpartition("/")[2]
        match = regex.fullmatch(path)
        if match is None or match.lastgroup is None:
            return None
        return not self._negated[int(match.lastgroup[1:])]


@dataclass(frozen=True)
class IgnoreLayer:
    """Rules of one ignore file, placed in the tree: a root-relative path `rel` is matched as
    `prefix + rel[strip:]` (the path relative to the ignore file's own folder)."""

    rules: IgnoreRules
    prefix: str
    strip: int

    def verdict(self, rel: str, is_dir: bool) -> bool | None:
        return self.rules.verdict(self.prefix + rel[self.strip :], is_dir)


def layered_verdict(layers: Sequence[IgnoreLayer], rel: str, is_dir: bool) -> bool | None:
    """Git's precedence: the deepest ignore file with a matching pattern decides."""
    for layer in reversed(layers):
        verdict = layer.verdict(rel, is_dir)
        if verdict is not None:
            return verdict
    return None


_DEFAULT_DIR_NAMES: Final = frozenset(
    p[:-1] for p in DEFAULT_IGNORE_PATTERNS if p.endswith("/") and "*" not in p
)
_DEFAULT_FILE_SUFFIXES: Final = tuple(
    p[1:] for p in DEFAULT_IGNORE_PATTERNS if p.startswith("*.") and "/" not in p
)
assert len(_DEFAULT_DIR_NAMES) + len(_DEFAULT_FILE_SUFFIXES) == len(DEFAULT_IGNORE_PATTERNS)


def is_default_ignored(name: str, is_dir: bool) -> bool:
    """The built-in skips (plain folder names and `*.ext`), matched on the entry's name."""
    return name in _DEFAULT_DIR_NAMES if is_dir else name.endswith(_DEFAULT_FILE_SUFFIXES)


_SECRET_RULES: Final = IgnoreRules.parse("\n".join(SECRET_FILE_PATTERNS))


def secret_pattern(name: str) -> str | None:
    """The secret-file pattern a single path component matches (case-insensitively), or None.

    Case-insensitive because `ID_RSA` or `.ENV` on a case-insensitive disk is the same secret.
    """
    lowered = name.lower()
    for pattern in reversed(_SECRET_RULES.patterns):
        if re.fullmatch(pattern.name_regex, lowered, re.DOTALL):
            return pattern.source
    return None


assert _SECRET_RULES.names_only  # secret patterns name files, wherever they are
_SECRET_NAME_RE: Final = re.compile(
    "|".join(f"(?:{p.name_regex})" for p in _SECRET_RULES.patterns), re.DOTALL | re.IGNORECASE
)


def _literal_piece(pattern: str) -> str:
    """The longest literal run of a glob, lower-cased; "" (always present) when the pattern
    has a bracket or escape, which this does not try to read."""
    if "[" in pattern or "\\" in pattern:
        return ""
    return max(re.split(r"[*?]", pattern.lower()), key=len)


# Every name a secret pattern matches contains that pattern's literal run (ASCII names, where
# case-insensitive matching is plain lower-casing): a quick "surely no secret here".
_SECRET_PIECES: Final = tuple(sorted({_literal_piece(p) for p in SECRET_FILE_PATTERNS}))


def any_secret_name(names: Sequence[str]) -> bool:
    """`is_secret_name` for many names: one pass over them all when none can match."""
    joined = "\n".join(names)
    if joined.isascii():
        lowered = joined.lower()
        if not any(piece in lowered for piece in _SECRET_PIECES):
            return False
    return any(map(_SECRET_NAME_RE.fullmatch, names))


def is_secret_name(name: str) -> bool:
    """True when a file or folder name matches a secret-file pattern (fast path of the walk)."""
    return _SECRET_NAME_RE.fullmatch(name) is not None


def secret_path_pattern(path: str) -> str | None:
    """The secret pattern any component of a `/`-separated path matches, or None.

    A match on a folder counts: everything under `.env/` or `secrets.key/` stays home.
    """
    for component in path.split("/"):
        if component and is_secret_name(component):
            return secret_pattern(component)
    return None
