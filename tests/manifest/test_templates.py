"""`${{ … }}` expressions: the two forms that exist, and precise errors for everything else."""

from __future__ import annotations

import pytest

from opendeploy_plan.manifest import DependencyRef, SecretRef, TemplateError, parse_template


def test_a_literal_is_one_part() -> None:
    assert parse_template("plain text") == ["plain text"]
    assert parse_template("") == []
    assert parse_template("costs $5 {not an expression}") == ["costs $5 {not an expression}"]


def test_references_are_split_from_surrounding_text() -> None:
    assert parse_template("postgres://${{ secrets.USER }}@${{dependencies.db.HOST}}:5432") == [
        "postgres://",
        SecretRef("USER"),
        "@",
        DependencyRef("db", "HOST"),
        ":5432",
    ]


def test_a_whole_value_reference() -> None:
    assert parse_template("${{ secrets.API_KEY }}") == [SecretRef("API_KEY")]
    assert parse_template("${{   dependencies.main-db.DATABASE_URL   }}") == [
        DependencyRef("main-db", "DATABASE_URL")
    ]


def test_references_print_back_in_their_canonical_form() -> None:
    assert str(SecretRef("A")) == "${{ secrets.A }}"
    assert str(DependencyRef("db", "URL")) == "${{ dependencies.db.URL }}"


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("x ${{ secrets.A", "unterminated", 2),
        ("${{ env.HOME }}", "unknown expression '${{ env.HOME }}'", 0),
        ("${{ secrets.a-b }}", "a secret name must be a variable name", 0),
        ("${{ secrets. }}", "a secret name must be a variable name", 0),
        ("ok ${{ dependencies.db }}", "write ${{ dependencies.<name>.<KEY> }}", 3),
        ("${{ dependencies.DB.URL }}", "write ${{ dependencies.<name>.<KEY> }}", 0),
        ("${{ }}", "unknown expression", 0),
    ],
)
def test_malformed_expressions_are_errors_with_their_offset(
    text: str, message: str, offset: int
) -> None:
    with pytest.raises(
        TemplateError, match=message.replace("$", r"\$").replace("{", r"\{").replace("(", r"\(")
    ) as caught:
        parse_template(text)
    assert caught.value.offset == offset
