"""Which folders of a repository become services: workspace globs (pnpm, npm/yarn in both
forms, lerna, nx/turbo's default folders, `!` excludes, `/**`), the manifests a workspace
package may have, several Dockerfiles, app subfolders, and unique names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opendeploy_plan.analyze import analyze

APP = json.dumps({"name": "x", "dependencies": {"express": "4"}, "scripts": {"start": "node i.js"}})
LIB = json.dumps({"name": "lib"})
LIBRARY_NOTE = (
    "packages/ui: a workspace package without a Dockerfile, scripts.start or a Deno tasks.start "
    "(a library), not a service"
)
TREE = {
    "apps/web/package.json": APP,
    "apps/admin/package.json": APP,
    "packages/ui/package.json": LIB,
    "services/api/package.json": APP,
    "tools/x/package.json": APP,
    "apps/web/deep/nested/package.json": APP,
}
ROOT_WORKSPACES = json.dumps(
    {"name": "root", "private": True, "workspaces": ["apps/*", "packages/*"]}
)
ROOT_YARN = json.dumps(
    {"name": "root", "private": True, "workspaces": {"packages": ["services/*"]}}
)


def _analyze(root: Path, files: dict[str, str]) -> tuple[str, list[tuple[str, str]], list[str]]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    analysis = analyze(root)
    return analysis.layout, [(s.name, s.source) for s in analysis.services], analysis.notes


NX_DEFAULT = [("admin", "apps/admin"), ("web", "apps/web"), ("api", "services/api")]


@pytest.mark.parametrize(
    ("extra", "services", "notes"),
    [
        (
            {"pnpm-workspace.yaml": "packages:\n  - 'apps/*'\n  - '!apps/admin'\n"},
            [("web", "apps/web")],
            [],
        ),
        (
            {"package.json": ROOT_WORKSPACES},
            [("admin", "apps/admin"), ("web", "apps/web")],
            [LIBRARY_NOTE],
        ),
        ({"package.json": ROOT_YARN}, [("api", "services/api")], []),
        ({"lerna.json": json.dumps({"packages": ["tools/*"]})}, [("x", "tools/x")], []),
        ({"nx.json": "{}"}, NX_DEFAULT, [LIBRARY_NOTE]),
        ({"turbo.json": "{}"}, NX_DEFAULT, [LIBRARY_NOTE]),
        (
            {"pnpm-workspace.yaml": "packages:\n  - 'apps/**'\n"},
            [("admin", "apps/admin"), ("web", "apps/web"), ("nested", "apps/web/deep/nested")],
            [],
        ),
    ],
    ids=["pnpm-exclude", "npm-list", "yarn-dict", "lerna", "nx", "turbo", "globstar"],
)
def test_workspace_globs_pick_the_service_folders(
    extra: dict[str, str], services: list[tuple[str, str]], notes: list[str], tmp_path: Path
) -> None:
    assert _analyze(tmp_path / "mono", {**TREE, **extra}) == ("workspaces", services, notes)


def test_workspace_packages_are_found_by_any_manifest(tmp_path: Path) -> None:
    layout, services, notes = _analyze(
        tmp_path / "mono",
        {
            "pnpm-workspace.yaml": "packages:\n  - 'svc/*'\n",
            "svc/go/go.mod": "module x\n",
            "svc/go/main.go": 'package main\nimport "net/http"\n'
            'func main(){http.ListenAndServe(":8080",nil)}\n',
            "svc/docker/Dockerfile": 'FROM alpine\nCMD ["sh"]\n',
            "svc/py/pyproject.toml": '[project]\nname="a"\ndependencies=["fastapi"]\n',
            "svc/py/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
            "svc/dn/deno.json": '{"tasks":{"start":"deno run main.ts"}}',
        },
    )
    assert layout == "workspaces"
    # A Deno package started by `tasks.start` is a service, as one with `scripts.start` is.
    assert services == [
        ("dn", "svc/dn"),
        ("docker", "svc/docker"),
        ("go", "svc/go"),
        ("py", "svc/py"),
    ]
    assert not any("a workspace package without" in note for note in notes)
    assert any(
        note.startswith("svc/go: no Dockerfile or scripts.start, but a web") for note in notes
    )


def test_two_dockerfile_folders_are_two_services(tmp_path: Path) -> None:
    files = {"a/Dockerfile": "FROM x\n", "b/Dockerfile": "FROM y\n", "b/c/Dockerfile": "FROM z\n"}
    assert _analyze(tmp_path / "mono", files)[:2] == ("dockerfiles", [("a", "a"), ("b", "b")])


def test_app_subfolders_are_services_but_docs_tests_and_dot_folders_are_not(tmp_path: Path) -> None:
    files = {
        "frontend/index.html": "<html>",
        "backend/package.json": APP,
        "docs/index.html": "<html>",
        "tests/package.json": APP,
        "examples/package.json": APP,
        ".github/package.json": APP,
    }
    assert _analyze(tmp_path / "mono", files)[:2] == (
        "subfolders",
        [("backend", "backend"), ("frontend", "frontend")],
    )


def test_a_single_app_subfolder_takes_the_project_name(tmp_path: Path) -> None:
    layout, services, notes = _analyze(
        tmp_path / "mono", {"app/package.json": APP, "README.md": "x"}
    )
    assert (layout, services) == ("single", [("mono", "app")])
    assert notes == ["the app is in app/ (nothing at the root names it)"]


def test_two_folders_with_one_name_get_unique_service_names(tmp_path: Path) -> None:
    files = {
        "pnpm-workspace.yaml": "packages:\n  - 'apps/*'\n  - 'services/*'\n  - 'edge/*'\n",
        "apps/api/package.json": APP,
        "services/api/package.json": APP,
        "edge/api/package.json": APP,
    }
    assert _analyze(tmp_path / "mono", files)[1] == [
        ("api", "apps/api"),
        ("api-2", "edge/api"),
        ("api-3", "services/api"),
    ]


def test_a_double_star_glob_takes_nested_folders_but_not_a_lookalike_sibling(
    tmp_path: Path,
) -> None:
    from opendeploy_plan.analyze.repo import RepoView
    from opendeploy_plan.analyze.workspaces import workspace_folders

    pkg = '{"name": "x", "scripts": {"start": "node index.js"}}\n'
    for rel in ("packages/a/b", "packages/c", "packagesx/d", "other/e"):
        (tmp_path / rel).mkdir(parents=True)
        (tmp_path / rel / "package.json").write_text(pkg)
    (tmp_path / "package.json").write_text('{"name": "root", "workspaces": ["packages/**"]}\n')
    folders, sources = workspace_folders(RepoView(tmp_path))
    assert folders == ["packages/a/b", "packages/c"]
    assert sources == ["package.json"]


DENO_START = json.dumps({"tasks": {"start": "deno run -A main.ts"}})


def test_a_workspace_member_started_by_a_deno_task_is_a_service(tmp_path: Path) -> None:
    layout, services, notes = _analyze(
        tmp_path / "mono",
        {
            "package.json": json.dumps({"workspaces": ["apps/*"]}),
            "apps/jobs/deno.json": DENO_START,
            "apps/jobs/main.ts": "console.log('tick')\n",
            "apps/ui/package.json": LIB,
        },
    )
    assert (layout, services) == ("workspaces", [("jobs", "apps/jobs")])
    assert notes == [LIBRARY_NOTE.replace("packages/ui", "apps/ui")]


@pytest.mark.parametrize("config", ["deno.json", "deno.jsonc"])
def test_a_deno_workspace_lists_its_member_folders(tmp_path: Path, config: str) -> None:
    layout, services, notes = _analyze(
        tmp_path / "mono",
        {
            config: "// members\n" * (config == "deno.jsonc")
            + json.dumps({"workspace": ["./api", "./worker", "lib"]}),
            f"api/{config}": DENO_START,
            "api/main.ts": "Deno.serve({ port: 8080 }, () => new Response('hi'))\n",
            f"worker/{config}": DENO_START,
            "worker/main.ts": "console.log('tick')\n",
            f"lib/{config}": json.dumps({"name": "@x/lib", "exports": "./mod.ts"}),
            "lib/mod.ts": "export const x = 1\n",
            "other/package.json": APP,
        },
    )
    assert layout == "workspaces"
    assert services == [("api", "api"), ("worker", "worker")]
    assert notes == [
        "lib: a workspace package without a Dockerfile, scripts.start or a Deno tasks.start "
        "(a library), not a service"
    ]
