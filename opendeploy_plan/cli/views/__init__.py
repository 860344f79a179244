"""Command views: one interface per command family, a human and a JSON implementation each
(Terraform's `internal/command/views`). Commands pick a view once from their flags and hand it
what the engine produced; they never branch on `--json` or the terminal themselves.

Import the submodule a command needs (`cli.views.apply`, …): each pulls in only its own
dependencies.
"""

from __future__ import annotations

__all__: list[str] = []
