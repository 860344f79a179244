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

# The classes git's wildmatch knows, with git's own ctype: `space` is space, tab, CR and LF only.
_POSIX_CLASSES: Final = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "space": " \\t\\n\\r",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}


class _BadPattern(ValueError):
    """A pattern git would never match (e.g. an unterminated `[`): skipped, as git does."""


# `[:name:]` inside a bracket: the name runs to the first `]`, which must follow a `:`.
_POSIX_CLASS: Final = re.compile(r"\[:([^\]]*):\]")


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
    """Translate the bracket expression starting at `glob[start] == '['`; return (regex, end).

    As git's wildmatch reads it: a `]` first is a member, `\\` escapes, `x-y` is a range from
    the member before (a reversed range holds nothing), `[:name:]` is a POSIX class (an unknown
    name makes the whole pattern match nothing), and no bracket ever matches `/`."""
    i = start + 1
    negate = glob[i : i + 1] in ("!", "^")
    i += negate
    members: list[str] = []  # one regex piece per member; never empty once one is read
    previous = ""  # the last single-character member, which a following `-` ranges from
    while i < len(glob):
        char = glob[i]
        if char == "]" and members:
            body = "".join(members)
            return (f"[^/{body}]" if negate else f"(?!/)[{body}]"), i + 1
        if char == "\\":
            i += 1
            char = glob[i : i + 1]  # nothing after it: the bracket is unterminated
        elif char == "-" and previous and glob[i + 1 : i + 2] != "]":
            i += 1 + (glob[i + 1 : i + 2] == "\\")
            last = glob[i : i + 1]
            # "/" is no member of any bracket: a stand-in for a reversed (empty) range.
            members[-1] = f"{re.escape(previous)}-{re.escape(last)}" if previous <= last else "/"
            previous = ""
            i += 1
            continue
        elif (named := _POSIX_CLASS.match(glob, i)) is not None:
            if named[1] not in _POSIX_CLASSES:
                raise _BadPattern
            members.append(_POSIX_CLASSES[named[1]])
            previous = ""
            i = named.end()
            continue
        members.append(re.escape(char))
        previous = char
        i += 1
    raise _BadPattern


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
                raise _BadPattern  # a trailing backslash: git never matches it
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
    """Compile one gitignore line (without its line break), or None for blanks, comments and
    patterns git never matches."""
    text = _strip_trailing_spaces(line)
    if not text or text.startswith("#"):
        return None
    negated = text.startswith("!")
    if negated:
        text = text[1:]
    dir_only = text.endswith("/")
    if dir_only:
        text = text[:-1]  # one slash, as git: `a//` is `a/` for directories, matching nothing
    if not text:
        return None
    anchored = "/" in text
    if text.startswith("/"):
        text = text[1:]  # likewise one: `//a` matches nothing
    segments = text.split("/")
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
    return IgnorePattern(line, regex, negated, dir_only, anchored, name_regex)


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

    def _combine(self, indexes: Iterable[int]) -> re.Pattern[str]:
        alternatives = [
            f"(?P<p{i}>{p.name_regex if self.names_only else p.regex})"
            for i in sorted(indexes)[::-1]
            for p in (self.patterns[i],)
        ]
        # No alternative: the empty regex, which matches no path (paths are never empty).
        return re.compile("|".join(alternatives), re.DOTALL)

    @classmethod
    def parse(cls, text: str) -> IgnoreRules:
        """An ignore file's rules. Lines end at `\\n` only, and one `\\r` before it is dropped,
        as git reads them (a form feed or U+2028 is part of a pattern, not a line break)."""
        lines = (line.removesuffix("\r") for line in text.split("\n"))
        compiled = (compile_pattern(line) for line in lines)
        return cls([pattern for pattern in compiled if pattern is not None])

    def verdict(self, path: str, is_dir: bool) -> bool | None:
        regex = self._for_dirs if is_dir else self._for_files
        if self.names_only:
            path = path.rpartition("/")[2]
        match = regex.fullmatch(path)
        if match is None or match.lastgroup is None:
            return None
        return not self._negated[int(match.lastgroup[1:])]


@dataclass(frozen=True)
class IgnoreLayer:
    """Rules of one ignore file, placed in the tree: a root-relative path `rel` is matched as
    `prefix + rel[strip:]` (the path relative to the ignore file's own folder). The walk
    evaluates layers itself (`_select._exclusion`): deepest `.odplanignore` first."""

    rules: IgnoreRules
    prefix: str
    strip: int = 0


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
# The last matching pattern is the one named (as for ignore rules).
_SECRET_REGEXES_LAST_FIRST: Final = tuple(
    (re.compile(p.name_regex, re.DOTALL), p.source) for p in reversed(_SECRET_RULES.patterns)
)


def secret_pattern(name: str) -> str | None:
    """The secret-file pattern a single path component matches (case-insensitively), or None.

    Case-insensitive because `ID_RSA` or `.ENV` on a case-insensitive disk is the same secret.
    """
    lowered = name.lower()
    for regex, source in _SECRET_REGEXES_LAST_FIRST:
        if regex.fullmatch(lowered):
            return source
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
