"""A corpus of small apps, written for this suite (not copied from any builder's samples), each
with what `odplan init` must find: language, type, port, start command and databases.

Each app is a dict of files; `materialize` writes it into a folder. `ALL_APPS` is the corpus
the tests and `benchmarks/init.py` run through the real CLI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ALL_APPS", "App", "materialize", "package_json"]


@dataclass(frozen=True)
class App:
    """One fixture app and its expectations.

    `start` is a fragment the detected start command must contain (None: no start command);
    `db` the dependency types the manifest must declare; `service` picks the service to check
    in a multi-service layout (default: the only one).
    """

    name: str
    files: dict[str, str]
    language: str
    type: str
    port: int | None
    start: str | None
    db: tuple[str, ...] = ()
    service: str | None = None
    framework: str | None = None
    tags: tuple[str, ...] = field(default=())


def package_json(
    deps: dict[str, str] | None = None,
    scripts: dict[str, str] | None = None,
    dev: dict[str, str] | None = None,
    **extra: object,
) -> str:
    data: dict[str, object] = {"name": extra.pop("name", "app"), "version": "1.0.0"}
    data.update(extra)
    if scripts:
        data["scripts"] = scripts
    if deps:
        data["dependencies"] = deps
    if dev:
        data["devDependencies"] = dev
    return json.dumps(data, indent=2) + "\n"


def materialize(app: App, root: Path) -> Path:
    """Write the app's files under `root` and return it."""
    for rel, text in app.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if rel.endswith((".sh", "mvnw", "gradlew")):
            path.chmod(0o755)
    return root


def _all() -> list[App]:
    from tests.analyze.corpus import (
        go_rust,
        jvm_dotnet,
        layouts,
        longtail,
        node,
        python,
        ruby_php_elixir,
        static_compose,
    )

    apps: list[App] = []
    for module in (
        python,
        node,
        go_rust,
        jvm_dotnet,
        ruby_php_elixir,
        longtail,
        static_compose,
        layouts,
    ):
        apps += module.APPS
    names = [a.name for a in apps]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, duplicates
    return apps


ALL_APPS: list[App] = _all()
