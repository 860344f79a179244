"""Reading the YAML itself: encoding and size limits, merge keys, duplicates, positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.diagnostics import Diagnostic
from opendeploy_plan.manifest import LoadResult, load_manifest_bytes

FILE = "opendeploy.yaml"
BASE = "version: 1\nproject:\n  name: shop\n"
MIB = 1024 * 1024


def load(raw: bytes | str) -> LoadResult:
    data = raw.encode() if isinstance(raw, str) else raw
    return load_manifest_bytes(data, FILE, Path("/nowhere"), check_sources=False)


def only(result: LoadResult) -> Diagnostic:
    [diagnostic] = result.diagnostics
    return diagnostic


def test_a_byte_that_is_not_utf8_is_shown_with_its_line_and_column() -> None:
    diagnostic = only(load(b"\nab\xff: 1\n"))
    assert diagnostic == Diagnostic(
        FILE, 2, 3, "error", "", "the file is not valid UTF-8 (byte 0xff)"
    )
    assert diagnostic.detail == "Save the manifest as UTF-8."
    # Columns count characters, not bytes.
    assert only(load("é\nx: 'ü".encode() + b"\xfe")).line == 2
    assert only(load("é\nx: 'ü".encode() + b"\xfe")).col == 6


def test_a_byte_order_mark_is_allowed() -> None:
    assert load(b"\xef\xbb\xbf" + (BASE + "services:\n  web: {}\n").encode()).ok


def test_a_manifest_may_be_1_mib_and_not_a_byte_more() -> None:
    text = BASE + "services:\n  web: {}\n"
    padded = text + "#" * (MIB - len(text) - 1) + "\n"
    assert len(padded) == MIB
    assert load(padded).ok
    assert only(load(padded + "\n")) == Diagnostic(
        FILE,
        0,
        0,
        "error",
        "",
        f"the file is {MIB + 1} bytes; a manifest may be at most 1 MiB ({MIB} bytes)",
    )


def test_an_integer_of_100_digits_is_read_and_one_of_101_is_refused() -> None:
    diagnostic = only(load(BASE + "services:\n  web:\n    port: " + "1" * 100 + "\n"))
    assert diagnostic.summary == f"must be between 1 and 65535 (got {'1' * 100})"
    diagnostic = only(load(BASE + "services:\n  web:\n    port: " + "1" * 101 + "\n"))
    assert (diagnostic.line, diagnostic.col, diagnostic.path, diagnostic.summary) == (
        6,
        11,
        "services.web.port",
        "integer with 101 digits is out of range (at most 9223372036854775807)",
    )
    assert diagnostic.detail == "Quote it if it is text."


def test_a_duplicate_key_is_reported_and_the_keys_after_it_are_still_read() -> None:
    result = load(BASE + "services:\n  web:\n    port: 80\n    port: 81\n    replicas: 0\n")
    assert result.diagnostics == [
        Diagnostic(
            FILE,
            7,
            5,
            "error",
            "services.web.port",
            "duplicate key 'port' (first defined at line 6)",
        ),
        Diagnostic(FILE, 8, 15, "error", "services.web.replicas", "must be at least 1 (got 0)"),
    ]
    assert result.diagnostics[0].detail == (
        "YAML keeps only the last of duplicate keys; remove one of them."
    )


def test_a_problem_without_advice_has_no_detail() -> None:
    diagnostic = only(load(BASE + "services:\n  web:\n    after: !!omap []\n"))
    assert (diagnostic.summary, diagnostic.detail) == (
        "unsupported YAML tag tag:yaml.org,2002:omap",
        "",
    )


def test_merge_keys_bring_in_what_the_merged_mapping_merges_itself() -> None:
    result = load(
        BASE
        + "x-small: &small\n  replicas: 1\n  port: 80\n"
        + "x-medium: &medium\n  <<: *small\n  replicas: 2\n  internal_only: true\n"
        + "services:\n"
        + "  web:\n    <<: *medium\n    port: 8080\n"
        + "  api:\n    <<: [*medium, {port: 9000, auto_scaling: true}]\n"
    )
    # `x-…` keys are not part of the model: only their unknown-key errors remain.
    assert [d.path for d in result.diagnostics] == ["x-small", "x-medium"]
    document = _services(
        BASE
        + "services:\n"
        + "  base: &base\n    replicas: 1\n    port: 80\n"
        + "  mid: &mid\n    <<: *base\n    replicas: 2\n    internal_only: true\n"
        + "  web:\n    <<: *mid\n    port: 8080\n"
        + "  api:\n    <<: [*mid, {port: 9000, auto_scaling: true}]\n"
    )
    assert document["web"] == (2, 8080, True, False)
    assert document["api"] == (2, 80, True, True)  # *mid (with *base) wins over the second


def test_a_mapping_listed_twice_in_a_merge_does_not_hide_the_next_one() -> None:
    document = _services(
        BASE
        + "services:\n  base: &b {port: 80}\n  more: &m {replicas: 2}\n"
        + "  web:\n    <<: [*b, *b, *m]\n"
    )
    assert document["web"] == (2, 80, False, False)


def test_a_mapping_that_merges_itself_adds_nothing_more() -> None:
    document = _services(BASE + "services:\n  web: &web\n    <<: *web\n    port: 8080\n")
    assert document["web"] == (1, 8080, False, False)


def test_a_merge_key_must_name_mappings() -> None:
    for value, line, col in (("", 9, 8), ("[*m, 1]", 9, 9)):
        result = load(
            BASE
            + "services:\n  base: &m\n    port: 80\n  web:\n"
            + f"    replicas: 1\n    <<: {value}\n    internal_only: true\n"
        )
        assert result.diagnostics == [
            Diagnostic(
                FILE,
                line,
                col,
                "error",
                "services.web",
                "a merge key (<<) must refer to a mapping or a list of mappings",
            )
        ], value


def test_a_bad_merge_inside_a_merged_mapping_is_reported() -> None:
    result = load(BASE + "services:\n  web:\n    <<: {<<: 5, port: 80}\n")
    assert [(d.line, d.col, d.path, d.summary) for d in result.diagnostics] == [
        (6, 14, "services.web", "a merge key (<<) must refer to a mapping or a list of mappings")
    ]
    deeper = load(BASE + "services:\n  web:\n    <<: {<<: {<<: 5}, port: 80}\n")
    assert [(d.line, d.col, d.path) for d in deeper.diagnostics] == [(6, 19, "services.web")]


def test_keys_brought_in_by_a_merge_are_reported_where_they_are_written() -> None:
    result = load(
        BASE + "defaults: &defaults\n    colour: blue\n" + "services:\n  web:\n    <<: *defaults\n"
    )
    assert [(d.line, d.col, d.path) for d in result.diagnostics] == [
        (4, 1, "defaults"),
        (5, 5, "services.web.colour"),
    ]


def test_an_alias_that_contains_itself_stops_the_load() -> None:
    result = load(BASE + "services: &s\n  web:\n    after: *s\n    port: 0\n")
    assert result.diagnostics == [
        Diagnostic(
            FILE,
            4,
            11,
            "error",
            "services.web.after",
            "an alias refers to itself (recursive anchor)",
        )
    ]
    assert result.manifest_dir == Path("/nowhere")


def test_nesting_deeper_than_64_stops_the_load() -> None:
    deep = "[" * 70 + "]" * 70
    result = load(BASE + f"services:\n  web:\n    port: 0\n    after: {deep}\n")
    assert [(d.path, d.summary) for d in result.diagnostics] == [
        ("services", "nested more than 64 levels deep")
    ]


def _services(text: str) -> dict[str, tuple[int, int | None, bool, bool]]:
    result = load(text)
    assert result.manifest is not None, result.diagnostics
    return {
        name: (s.replicas, s.port, s.internal_only, s.auto_scaling)
        for name, s in result.manifest.services.items()
    }


def test_an_empty_file_says_how_to_start() -> None:
    for text in ("", "# only a comment\n"):
        result = load(text)
        assert result.diagnostics == [Diagnostic(FILE, 0, 0, "error", "", "the file is empty")]
        assert result.diagnostics[0].detail == "Start with `version: 1` and a `project`."
        assert result.manifest_dir == Path("/nowhere")


def test_a_syntax_error_has_the_position_yaml_gives() -> None:
    assert load("a: b\n c: d\n").diagnostics == [
        Diagnostic(
            FILE,
            2,
            3,
            "error",
            "",
            "YAML syntax error: mapping values are not allowed in this context",
        )
    ]
    assert load("a: [1, 2\n").diagnostics == [
        Diagnostic(
            FILE,
            2,
            1,
            "error",
            "",
            "YAML syntax error: while parsing a flow sequence did not find expected ',' or ']'",
        )
    ]


def test_a_control_character_is_a_syntax_error_at_its_position() -> None:
    assert load("é: x\nab: \x07\n").diagnostics == [
        Diagnostic(FILE, 2, 5, "error", "", "YAML syntax error: control characters are not allowed")
    ]


@pytest.mark.parametrize(
    ("filler", "line", "col"),
    [
        (0, 276, 20),  # the limit is reached reading a merged value
        (500, 176, 7),  # the limit is reached reading the list of merged mappings
    ],
)
def test_merges_count_towards_the_expansion_limit(filler: int, line: int, col: int) -> None:
    # 130 mappings merging 400 one-key mappings each: 52,000 values, and 52,000 merges read.
    sources = "".join(f"a{i}: &a{i} {{k{i}: 1}}\n" for i in range(400))
    aliases = ", ".join(f"*a{i}" for i in range(400))
    users = "".join(f"u{j}:\n  <<: [{aliases}]\n" for j in range(130))
    padding = "f: [" + "0," * filler + "]\n" if filler else ""
    [diagnostic] = load(BASE + padding + sources + users).diagnostics
    assert diagnostic == Diagnostic(
        FILE, line, col, "error", "u123", "the document expands to more than 100000 values"
    )
    assert diagnostic.detail == (
        "Anchors and aliases (&name / *name) multiply when expanded; this looks like an alias bomb."
    )


def test_a_mapping_merged_twice_is_read_once() -> None:
    # Without that, doubling at each step would take 2**60 steps.
    doubling = "".join(
        f"s{i}: &b{i}\n  <<: [*b{i - 1}, *b{i - 1}]\n  k{i}: 1\n" for i in range(1, 60)
    )
    result = load(BASE + "s0: &b0 {k: 1}\n" + doubling)
    assert len(result.diagnostics) == 61  # 60 unknown keys and "no services"


def test_merges_nested_deeper_than_python_can_follow_stop_the_load() -> None:
    nested = "{<<: " * 995 + "{k: 1}" + "}" * 995
    result = load(BASE + f"services:\n  web: {nested}\n")
    assert result.diagnostics == [
        Diagnostic(FILE, 1, 1, "error", "", "the YAML is nested too deeply (limit 64)")
    ]


def test_nesting_stops_past_64_levels_not_at_them() -> None:
    def nested(levels: int) -> list[str]:
        text = BASE + "services:\n  web:\n    after: " + "[" * levels + "]" * levels + "\n"
        return [d.summary for d in load(text).diagnostics]

    assert nested(62) == ["must be a string (got a list)"]  # the innermost list is at depth 64
    assert nested(63) == ["nested more than 64 levels deep"]


def test_an_env_value_keeps_the_text_written_unless_a_tag_asks_for_a_number() -> None:
    def env(written: str) -> object:
        result = load(BASE + f"services:\n  web:\n    env:\n      PORT: {written}\n")
        if result.manifest is None:
            return [d.summary for d in result.diagnostics]
        return result.manifest.services["web"].env["PORT"]

    assert env("8080") == "8080"
    assert env("0x1F") == "0x1F"
    assert env("1_000") == "1_000"
    assert env("2024-01-01") == "2024-01-01"
    assert env("true") == "true"
    assert env('"8080"') == "8080"
    assert env("!!str 8080") == "8080"
    assert env('!!int "8080"') == ["must be a string (got integer 8080)"]


def test_a_value_python_cannot_build_says_to_quote_it() -> None:
    diagnostic = only(load(BASE + "services:\n  web:\n    port: 2024-13-45\n"))
    assert (diagnostic.line, diagnostic.col, diagnostic.summary, diagnostic.detail) == (
        6,
        11,
        "unsupported YAML value: month must be in 1..12",
        "Quote it if it is text.",
    )


def test_a_key_that_is_a_list_is_reported_and_the_next_keys_still_read() -> None:
    result = load(BASE + "services:\n  web: {[a]: 1, port: 0}\n")
    assert [(d.line, d.col, d.path, d.summary) for d in result.diagnostics] == [
        (5, 9, "services.web", "mapping keys must be plain text, not lists or mappings"),
        (5, 23, "services.web.port", "must be between 1 and 65535 (got 0)"),
    ]


def test_a_document_of_exactly_100000_values_is_read_whole() -> None:
    def summaries(fillers: int) -> list[str]:
        text = "project:\n  name: shop\nfiller: [" + "0," * fillers + "]\nversion: 1\n"
        return [d.summary for d in load(text).diagnostics]

    # root, project, name, the list, its items and version: fillers + 5 values.
    assert summaries(99_995) == [
        "no services: only the project and its dependencies would be created",
        "unknown key",
    ]
    assert summaries(99_996) == ["the document expands to more than 100000 values"]


def test_nothing_past_the_expansion_limit_is_read() -> None:
    text = "project:\n  name: shop\nfiller: [" + "0," * 99_996 + "]\nlate: 2024-13-45\n"
    assert [d.summary for d in load(text).diagnostics] == [
        "the document expands to more than 100000 values"
    ]
