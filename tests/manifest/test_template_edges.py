"""`${{ … }}` edge cases: the may-be-empty secret, exact error texts, and how parts are split."""

from __future__ import annotations

import pytest

from opendeploy_plan.manifest import DependencyRef, SecretRef, TemplateError, parse_template


@pytest.mark.parametrize(
    "text", ["${{ secrets.TOKEN || '' }}", '${{secrets.TOKEN||""}}', "${{ secrets.TOKEN ||'' }}"]
)
def test_a_secret_that_may_be_empty_is_parsed_as_such(text: str) -> None:
    assert parse_template(text) == [SecretRef("TOKEN", allow_empty=True)]


def test_a_plain_secret_may_not_be_empty() -> None:
    [ref] = parse_template("${{ secrets.TOKEN }}")
    assert ref == SecretRef("TOKEN", allow_empty=False)


def test_a_secret_that_may_be_empty_prints_back_with_its_default() -> None:
    assert str(SecretRef("TOKEN", allow_empty=True)) == "${{ secrets.TOKEN || '' }}"
    assert str(SecretRef("TOKEN")) == "${{ secrets.TOKEN }}"


def test_parts_alternate_and_keep_every_character_of_the_literals() -> None:
    assert parse_template("a${{ secrets.A }}${{ secrets.B }}b}}c") == [
        "a",
        SecretRef("A"),
        SecretRef("B"),
        "b}}c",
    ]


def error(text: str) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        parse_template(text)
    return caught.value


def test_the_unknown_expression_message_names_both_allowed_forms() -> None:
    found = error("x${{ env.HOME }}")
    assert found.message == (
        "unknown expression '${{ env.HOME }}'; only ${{ secrets.NAME }} and "
        "${{ dependencies.<name>.<KEY> }} are allowed"
    )
    assert found.offset == 1


def test_a_malformed_secret_message_explains_the_one_allowed_suffix() -> None:
    assert error("${{ secrets.A || 'x' }}").message == (
        "'${{ secrets.A || 'x' }}': a secret name must be a variable name (A-Z, 0-9, _); "
        "only ${{ secrets.NAME || '' }} may follow it (a secret that may be empty)"
    )


def test_a_malformed_dependency_message_shows_the_form() -> None:
    assert error("${{ dependencies.db }}").message == (
        "'${{ dependencies.db }}': write ${{ dependencies.<name>.<KEY> }}"
    )


def test_an_unterminated_expression_message() -> None:
    found = error("ab${{ secrets.A }")
    assert (found.message, found.offset) == ("unterminated '${{' (missing '}}')", 2)


def test_a_dependency_reference_keeps_its_name_and_key() -> None:
    assert parse_template("${{ dependencies.db-1.URL_2 }}") == [DependencyRef("db-1", "URL_2")]
