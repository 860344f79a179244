"""The ignore-file rules against git itself: for each pattern and each path, `IgnoreRules`
gives the same verdict as `git check-ignore` (ignored, re-included by a `!` pattern, or no
opinion). git is the reference the README promises (".gitignore syntax"); this is the test
that catches a one-character slip in the glob translator (issue 19's mutation audit)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from opendeploy_plan.source._rules import IgnoreRules

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

PATTERNS = [
    # brackets: sets, ranges, negation, a leading ], escapes, POSIX classes, unclosed
    "[abc]",
    "[!abc]",
    "[^abc]",
    "[a-c]x",
    "[]a]",
    "[!]a]",
    "[a-]",
    "[-a]",
    "[\\]]",
    "[a\\-c]",
    "[\\!a]",
    "[[:digit:]]",
    "[![:alpha:]]",
    "[[:upper:][:digit:]]z",
    "[[:bogus:]]",
    "[a",
    "x[",
    "[!]",
    "[]",
    "[a-c-e]",
    "[*?]",
    "[\\",
    # stars, questions and escapes
    "*",
    "a*",
    "*b",
    "a**b",
    "?",
    "a?",
    "\\*",
    "\\?",
    "\\[a]",
    "\\!a",
    "\\#a",
    "#a",
    "!a",
    "!*b",
    "a\\",
    # trailing spaces: dropped unless escaped
    "a ",
    "a\\ ",
    "a\\\\ ",
    "a\\ \\ ",
    # slashes: anchoring, directories only, double stars
    "/a",
    "a/",
    "/a/",
    "p/a",
    "p/*",
    "p/**",
    "**/a",
    "**/p/a",
    "p/**/a",
    "**",
    "/**/a",
    "a/**/",
    "q/*/a",
]

NAMES = [
    "a",
    "b",
    "c",
    "d",
    "e",
    "x",
    "z",
    "A",
    "Z",
    "ab",
    "ax",
    "bx",
    "cx",
    "dx",
    "xb",
    "aab",
    "abb",
    "a b",
    "a ",
    "a  ",
    "-",
    "]",
    "[",
    "a]",
    "[a]",
    "!",
    "!a",
    "#a",
    "*",
    "?",
    "1",
    "9",
    "1z",
    "Az",
    "az",
    "_",
    "..a",
    "ba",
    "a-",
    "-a",
    "x[",
    "[a",
    "a\\",
]
NESTED = ["p/a", "p/b", "p/x/a", "q/p/a", "q/x/a", "q/x/y/a", "p/ab", "w/a"]


def _git_verdicts(root: Path, pattern: str, paths: list[str]) -> dict[str, bool | None]:
    (root / ".gitignore").write_text(pattern + "\n", encoding="utf-8")
    answer = subprocess.run(
        ["git", "check-ignore", "--no-index", "-z", "-v", "-n", "--stdin"],
        cwd=root,
        input="\0".join(paths) + "\0",
        capture_output=True,
        text=True,
        check=False,
    )
    assert answer.returncode in (0, 1), answer.stderr
    fields = answer.stdout.split("\0")
    verdicts: dict[str, bool | None] = {}
    for index in range(0, len(fields) - 1, 4):
        _source, _line, matched, path = fields[index : index + 4]
        verdicts[path] = None if not matched else not matched.startswith("!")
    return verdicts


def make_repo(root: Path, paths: list[str], *, as_dirs: bool) -> list[str]:
    """A git work tree holding `paths` as files (or as folders), for `git check-ignore`."""
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for rel in paths:
        target = root / rel
        if as_dirs:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("x")
    return paths


def _tree(root: Path, *, as_dirs: bool) -> list[str]:
    return make_repo(root, NAMES + NESTED, as_dirs=as_dirs)


def git_differences(
    root: Path, patterns: list[str], paths: list[str], *, as_dirs: bool
) -> list[str]:
    """Where odplan's verdict on a path differs from git's, pattern by pattern (paths under an
    ignored folder are skipped: git never looks inside, and the walker prunes it)."""
    differences = []
    for pattern in patterns:
        rules = IgnoreRules.parse(pattern)
        expected = _git_verdicts(root, pattern, paths)
        for rel in paths:
            parents = rel.split("/")[:-1]
            if any(rules.verdict("/".join(parents[: i + 1]), True) for i in range(len(parents))):
                continue
            ours = rules.verdict(rel, as_dirs)
            if ours != expected[rel]:
                differences.append(f"{pattern!r} on {rel!r}: odplan {ours}, git {expected[rel]}")
    return differences


@pytest.mark.parametrize("as_dirs", [False, True], ids=["files", "dirs"])
def test_every_pattern_gives_gits_verdict(tmp_path: Path, as_dirs: bool) -> None:
    root = tmp_path / "repo"
    paths = _tree(root, as_dirs=as_dirs)
    assert git_differences(root, PATTERNS, paths, as_dirs=as_dirs) == []


def test_the_last_matching_line_wins_like_git(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    paths = _tree(root, as_dirs=False)
    text = "*\n!a*\nab\n# comment\n\n!\\#a\n"
    rules = IgnoreRules.parse(text)
    expected = _git_verdicts(root, text.rstrip("\n"), paths)
    assert {rel: rules.verdict(rel, False) for rel in NAMES} == {
        rel: expected[rel] for rel in NAMES
    }
