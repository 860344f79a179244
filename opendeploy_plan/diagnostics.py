"""Diagnostics: problems found in user input, accumulated and reported all at once.

Every room that checks user input (manifest validation, planning) reports through this one type,
so that the command line prints them the same way: `file:line:col: severity: path: summary`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Diagnostic", "Severity", "has_errors", "sorted_unique"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem with a location. Sorts by file, then position, then errors before warnings.

    `line` and `col` are 1-based; 0 means "the whole file" (e.g. the file is empty or missing).
    `path` is the dotted address inside the document (`services.web.port`), "" for the file;
    diagnostics not tied to a file (the planner's) leave `file` empty and put an address there.
    """

    file: str
    line: int
    col: int
    severity: Severity
    path: str
    summary: str
    detail: str = field(default="", compare=False)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def location(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"

    def format(self) -> str:
        """The one-line form, e.g. `opendeploy.yaml:7:11: error: services.web.port: …`."""
        where = f"{self.path}: " if self.path else ""
        location = self.location()
        prefix = f"{location}: " if location else ""  # planner diagnostics have no file
        return f"{prefix}{self.severity}: {where}{self.summary}"

    def format_long(self) -> str:
        """The one-line form followed by the detail, indented, when there is one."""
        if not self.detail:
            return self.format()
        indented = "\n".join(f"    {line}" for line in self.detail.splitlines())
        return f"{self.format()}\n{indented}"

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "summary": self.summary,
            "detail": self.detail,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "path": self.path,
        }


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sorted_unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Sorted by position, with exact repeats (same place, same message) dropped."""
    return sorted(set(diagnostics))
