"""Ignore-file patterns at their edges, against git itself where git can answer: bracket ranges
and classes, escapes, spaces, slashes, line breaks. Each case here was a one-character change
to the glob translator that the main oracle (`test_rules_git_oracle`) did not notice, or a
place where odplan and git disagreed (a reversed range crashed the walk; a bracket matched `/`).
Also the secret-name fast paths (`any_secret_name`, `secret_pattern`)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from opendeploy_plan.source import select_files
from opendeploy_plan.source._rules import (
    SECRET_FILE_PATTERNS,
    IgnoreRules,
    _literal_piece,
    any_secret_name,
    compile_pattern,
    is_secret_name,
    secret_pattern,
)
from tests.source.conftest import write_tree
from tests.source.test_rules_git_oracle import git_differences, make_repo

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

POSIX_CLASS_NAMES = "alnum alpha blank cntrl digit graph lower print punct space upper xdigit"
POSIX_CLASS_NAMES = POSIX_CLASS_NAMES.split()
EDGE_PATTERNS = [
    # brackets: which characters negate, escapes before a range, ranges and their ends
    "[Xa]",
    "[\\a-c]",
    "[a\\]",
    "[a-",
    "[a-]x",
    "[]-a]",
    "[a-c-e]",
    "[--0]",
    "[!-a]x",
    "[+\\-0]",
    "[+-\\0]",
    "[a-\\c]",
    "[a-a]",
    "[!a-a]",
    "x[b-b]",
    # a reversed range holds nothing (it used to crash the walk with a regex error)
    "[z-a]",
    "[!z-a]",
    "[z-a]]",
    "[a-[:digit:]]]",
    # POSIX classes: unknown or empty names make the pattern match nothing
    "[[::]]",
    "[[:bogus:]]",
    "[[:alpha]",
    "[[:]]",
    "x[[:cntrl:]]y",
    "[[:space:]]",
    "[[:digit:]-z]",
    # no bracket matches the `/` between folders
    "q[[:punct:]]x/a",
    "q[+-0]x/a",
    "q[!a]x/a",
    # spaces: only unescaped trailing ones are dropped, an odd run of backslashes escapes
    " ",
    "  ",
    "\\ ",
    "a\\\\\\ ",
    "a\\\\\\\\ ",
    "b\\\\\\ ",
    # slashes: one leading slash anchors and one trailing slash means "folders only"
    "a//",
    "//a",
    "/a/",
    "X/",
    "**/c",
    # line breaks: only \n ends a line; a form feed or U+2028 belongs to the pattern
    "x\x0cy",
    "x\u2028y",
    "a\r\nb",
    # every POSIX class git knows, on control, space and punctuation characters
    *(f"[[:{name}:]]" for name in POSIX_CLASS_NAMES),
]

EDGE_NAMES = [
    "a", "b", "c", "d", "e", "x", "X", "_", "^", "]", "[", "-", "+", "0", "/", " ", "  ",
    "a b", "ax", "bx", "-x", "]x", "_x", "dx", "d]", "t]", "x]", "a\\", "a\\ ", "a\\\\ ",
    "b\\ ", "x\x0cy", "x\ty", "x\u2028y", "xy", "x y", "y",
    "\x01", "\t", "\x0b", "\x0c", "\x1f", "\x7f", "~", "!", "@", "`", "Z", "9", "f", "g",
]  # fmt: skip
EDGE_NESTED = ["q/x/a", "n\nm/c", "p/c"]


def _tree(root: Path, *, as_dirs: bool) -> list[str]:
    return make_repo(root, [n for n in EDGE_NAMES if n != "/"] + EDGE_NESTED, as_dirs=as_dirs)


@needs_git
@pytest.mark.parametrize("as_dirs", [False, True], ids=["files", "dirs"])
def test_edge_patterns_give_gits_verdict(tmp_path: Path, as_dirs: bool) -> None:
    root = tmp_path / "repo"
    paths = _tree(root, as_dirs=as_dirs)
    assert git_differences(root, EDGE_PATTERNS, paths, as_dirs=as_dirs) == []


def test_a_bracket_never_matches_the_slash_between_folders() -> None:
    """The regex is matched against whole paths: a class holding `/` must not span folders."""
    for pattern in ("q[[:punct:]]x/a", "q[+-0]x/a", "q[!a]x/a", "q[/]x/a"):
        assert IgnoreRules.parse(pattern).verdict("q/x/a", False) is None, pattern


def test_a_reversed_range_in_a_gitignore_does_not_break_the_walk(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path, {".gitignore": "[z-a]\n[!z-a]\n*.log\n", "a": "", "ab": "", "x.log": ""}
    )
    assert [f.path for f in select_files(root).files] == [".gitignore", "ab"]


def test_crlf_ignore_files_read_like_git(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            ".gitignore": "*.log\r\n/build2\r\n\r\n!keep.log\r\n",
            "a.log": "",
            "keep.log": "",
            "build2": "",
            "x": "",
        },
    )
    assert [f.path for f in select_files(root).files] == [".gitignore", "keep.log", "x"]


def test_a_parent_folder_name_with_a_line_break_is_matched_across() -> None:
    """`*.log` next to an anchored pattern is matched on the whole path (`(?:.+/)?…`): a parent
    folder whose name holds a newline must not hide the file from it."""
    rules = IgnoreRules.parse("*.log\n/zz\n")
    assert rules.verdict("n\nm/c.log", False) is True
    assert rules.verdict("n\nm/c.txt", False) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("*.log", ("*.log", False, False, False)),
        ("!/doc/*.md", ("!/doc/*.md", True, False, True)),
        ("build/", ("build/", False, True, False)),
        ("!logs/", ("!logs/", True, True, False)),
        ("a/b", ("a/b", False, False, True)),
        ("/a", ("/a", False, False, True)),
        ("a\\ ", ("a\\ ", False, False, False)),
    ],
)
def test_compile_pattern_reads_what_a_line_says(
    line: str, expected: tuple[str, bool, bool, bool]
) -> None:
    pattern = compile_pattern(line)
    assert pattern is not None
    assert (pattern.source, pattern.negated, pattern.dir_only, pattern.anchored) == expected


@pytest.mark.parametrize("line", ["", "   ", "# comment", "!", "/", "!/", "[a", "a\\", "[[:x:]]"])
def test_lines_that_are_no_pattern(line: str) -> None:
    assert compile_pattern(line) is None


# `_literal_piece`: every name a pattern matches contains the piece (a quick "surely no secret").
@pytest.mark.parametrize(
    ("pattern", "piece"),
    [
        (".env", ".env"),
        ("id_dsa*", "id_dsa"),
        ("*.tfstate.*", ".tfstate."),
        ("service-account*.json", "service-account"),
        ("*kubeconfig*", "kubeconfig"),
        ("abc*z", "abc"),
        ("a?bcd", "bcd"),
        ("Secrets.YAML", "secrets.yaml"),
        ("[ab]cdef*", ""),
        ("x\\*yz", ""),
        ("*", ""),
    ],
)
def test_literal_piece_is_the_longest_literal_run_lower_cased(pattern: str, piece: str) -> None:
    assert _literal_piece(pattern) == piece


def _instances(pattern: str) -> list[str]:
    """A few names `pattern` (a glob without brackets or escapes) matches."""
    return [pattern.replace("*", fill).replace("?", "q") for fill in ("", "Zz", "-*-")]


@pytest.mark.parametrize("pattern", [*SECRET_FILE_PATTERNS, "[ab]x*", "ab\\?cd*", "a*b?c"])
def test_every_name_a_pattern_matches_holds_its_literal_piece(pattern: str) -> None:
    rules = IgnoreRules.parse(pattern)
    names = ["ax1", "bxx"] if pattern == "[ab]x*" else ["ab?cd", "ab?cdq"]
    names = names if "[" in pattern or "\\" in pattern else _instances(pattern)
    for name in names:
        assert rules.verdict(name, False), (pattern, name)
        assert _literal_piece(pattern) in name.lower(), (pattern, name)


def test_any_secret_name_finds_each_secret_pattern_alone_and_among_all() -> None:
    secrets = [name for p in SECRET_FILE_PATTERNS for name in _instances(p)]
    assert all(is_secret_name(name) for name in secrets)
    for name in secrets:
        assert any_secret_name(["README.md", name, "main.py"]), name
    assert any_secret_name(secrets)  # every literal piece present at once
    assert not any_secret_name(["README.md", "main.py", "env", "pem", "key.txt"])


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        (".env", ".env"),
        (".ENV.local", ".env.*"),
        ("tls.PEM", "*.pem"),
        ("id_rsa.pem", "id_rsa*"),  # two patterns match: the later one is named
        ("service-account-ci-sa.json", "*-sa.json"),
        ("prod.tfvars", "*.tfvars"),
        ("README.md", None),
        ("env", None),
    ],
)
def test_secret_pattern_names_the_pattern_a_name_matches(name: str, pattern: str | None) -> None:
    assert secret_pattern(name) == pattern


def test_secret_pattern_covers_every_listed_pattern() -> None:
    for pattern in SECRET_FILE_PATTERNS:
        name = pattern.replace("*", "x")
        matched = secret_pattern(name)
        assert matched is not None and re.fullmatch(
            re.escape(matched).replace("\\*", ".*"), name.lower()
        ), (pattern, matched)
