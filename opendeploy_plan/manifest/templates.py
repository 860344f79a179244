"""`${{ … }}` expressions inside manifest values: secrets and dependency outputs.

Only two forms exist: `${{ secrets.NAME }}` and `${{ dependencies.<name>.<KEY> }}`. Anything
else between `${{` and `}}` is an error, so a typo never silently becomes literal text.
`${{ secrets.NAME || '' }}` is the one variant: a secret that may be empty or unset (a plain
`${{ secrets.NAME }}` that resolves to "" is an error, so an unconfigured CI secret cannot wipe
a live value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, TypeAlias

from opendeploy_plan.errors import OdplanError

ENV_KEY_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OPEN: Final = "${{"
_CLOSE: Final = "}}"
_SECRET_RE: Final = re.compile(r"^secrets\.([A-Za-z_][A-Za-z0-9_]*)(\s*\|\|\s*(?:''|\"\"))?$")
_DEPENDENCY_RE: Final = re.compile(
    r"^dependencies\.([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.([A-Za-z_][A-Za-z0-9_]*)$"
)


@dataclass(frozen=True)
class SecretRef:
    """`${{ secrets.NAME }}`: resolved from the process environment, then the env files.

    `allow_empty` (`${{ secrets.NAME || '' }}`): an empty or unset secret is "" instead of an
    error."""

    name: str
    allow_empty: bool = False

    def __str__(self) -> str:
        default = " || ''" if self.allow_empty else ""
        return f"${{{{ secrets.{self.name}{default} }}}}"


@dataclass(frozen=True)
class DependencyRef:
    """`${{ dependencies.db.KEY }}`: one of a dependency's `env_vars`, known after it exists."""

    dependency: str
    key: str

    def __str__(self) -> str:
        return f"${{{{ dependencies.{self.dependency}.{self.key} }}}}"


TemplatePart: TypeAlias = str | SecretRef | DependencyRef


class TemplateError(OdplanError, ValueError):
    """A malformed `${{ … }}` expression; `offset` is where it starts in the value."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def parse_template(text: str) -> list[TemplatePart]:
    """Split a value into literal text and references, in order (never two literals in a row).

    `"postgres://${{ secrets.USER }}@host"` -> `["postgres://", SecretRef("USER"), "@host"]`.
    A value without expressions is `[text]` (or `[]` when empty). Raises TemplateError.
    """
    parts: list[TemplatePart] = []
    position = 0
    while True:
        start = text.find(_OPEN, position)
        if start < 0:
            break
        end = text.find(_CLOSE, start + len(_OPEN))
        if end < 0:
            raise TemplateError("unterminated '${{' (missing '}}')", start)
        if start > position:
            parts.append(text[position:start])
        parts.append(_parse_expression(text[start + len(_OPEN) : end].strip(), start))
        position = end + len(_CLOSE)
    if position < len(text):
        parts.append(text[position:])
    return parts


def _parse_expression(expression: str, offset: int) -> SecretRef | DependencyRef:
    if match := _SECRET_RE.match(expression):
        return SecretRef(match.group(1), allow_empty=match.group(2) is not None)
    if match := _DEPENDENCY_RE.match(expression):
        return DependencyRef(match.group(1), match.group(2))
    if expression.startswith("secrets."):
        raise TemplateError(
            f"'${{{{ {expression} }}}}': a secret name must be a variable name (A-Z, 0-9, _); "
            "only ${{ secrets.NAME || '' }} may follow it (a secret that may be empty)",
            offset,
        )
    if expression.startswith("dependencies."):
        raise TemplateError(
            f"'${{{{ {expression} }}}}': write ${{{{ dependencies.<name>.<KEY> }}}}", offset
        )
    raise TemplateError(
        f"unknown expression '${{{{ {expression} }}}}'; only ${{{{ secrets.NAME }}}} and "
        "${{ dependencies.<name>.<KEY> }} are allowed",
        offset,
    )


def has_expression(text: str) -> bool:
    return _OPEN in text
