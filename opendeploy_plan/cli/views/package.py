"""The `odplan package` views: what would be uploaded (and what was written) as lines, or the
JSON document. Warnings about the selection go to stderr before either."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import click

from opendeploy_plan.source import shown_path

__all__ = ["PackageHuman", "PackageJSON", "PackageSummary", "PackageView", "package_view"]


@dataclass(frozen=True)
class PackageSummary:
    """The `--json` document, plus what the human lines also say: the `-o` path as typed and
    how many files went into the archive."""

    document: dict[str, Any]
    output: str | None = None
    archive_file_count: int = 0


class PackageView(Protocol):
    def inspected(self, document: dict[str, Any]) -> None: ...

    def packaged(self, summary: PackageSummary) -> None: ...


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"  # pragma: no cover - the loop always returns


def _count(number: int, singular: str) -> str:
    return f"{number} {singular}{'' if number == 1 else 's'}"


class PackageHuman:
    def inspected(self, document: dict[str, Any]) -> None:
        for entry in document.get("files", ()):
            click.echo(f"  {shown_path(entry)}")
        count = _count(document["file_count"], "file")
        click.echo(f"{document['zip']}: {count}, digest {document['digest']}")
        if document["approved_secrets"]:
            approved = ", ".join(map(shown_path, document["approved_secrets"]))
            click.echo(f"approved env/credential files: {approved}", err=True)

    def packaged(self, summary: PackageSummary) -> None:
        data = summary.document
        listing = "files" in data
        for entry in data.get("files", ()):
            click.echo(f"{_human_size(entry['size']):>10}  {shown_path(entry['path'])}")
        if listing:  # each file kept home, and why (--list)
            for kept in data.get("kept_home", ()):
                click.echo(f"{'kept home':>10}  {shown_path(kept['path'])}  ({kept['reason']})")
        click.echo(
            f"project source {data['root']}: {_count(data['file_count'], 'file')}, "
            f"{_human_size(data['size'])}, {data['digest']}"
        )
        for name, info in data["services"].items():
            if info["digest"] is None:
                click.echo(f"  service {name}: git {info['source']['git']} (nothing uploaded)")
            else:
                click.echo(
                    f"  service {name} ({info['source']}): {_count(info['file_count'], 'file')}, "
                    f"{_human_size(info['size'])}, {info['digest']}"
                )
        secrets = data["excluded_secrets"]
        if secrets:
            shown = ", ".join(map(shown_path, secrets))
            click.echo(f"left out as secrets, never uploaded ({len(secrets)}): {shown}")
        archive = data["archive"]
        if archive is not None:
            click.echo(
                f"wrote {summary.output}: {_human_size(archive['size'])}, "
                f"sha256 {archive['sha256']}, {_count(summary.archive_file_count, 'file')}"
            )


class PackageJSON:
    def inspected(self, document: dict[str, Any]) -> None:
        click.echo(json.dumps(document, indent=2))

    def packaged(self, summary: PackageSummary) -> None:
        click.echo(json.dumps(summary.document, indent=2))


def package_view(*, as_json: bool) -> PackageView:
    return PackageJSON() if as_json else PackageHuman()
