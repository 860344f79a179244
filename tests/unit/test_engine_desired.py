"""Resolving a manifest into the desired state (engine.desired): secrets, regions, the one
source of a project, and what a names-only (destroy) resolution skips."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.engine.desired import (
    NOT_READ,
    RegionChoice,
    Resolution,
    env_file_paths,
    resolve_desired,
    service_source_path,
)
from opendeploy_plan.engine.prepare import load
from opendeploy_plan.manifest import Manifest

HEAD = "version: 1\nproject:\n  name: shop\n"
REGIONS = [
    RegionChoice("r-1", "eu-1", "Europe", True),
    RegionChoice("r-2", "us-1", "America", True),
    RegionChoice("r-3", "ap-1", "Asia", False),
]


def _manifest(tmp_path: Path, text: str) -> Manifest:
    path = tmp_path / "opendeploy.yaml"
    path.write_text(text)
    (tmp_path / "app.py").write_text("print('hi')\n")
    loaded = load(path, None, check_sources=False)
    assert loaded.load.manifest is not None, loaded.diagnostics
    return loaded.load.manifest


def _resolve(
    tmp_path: Path,
    text: str,
    env: dict[str, str] | None = None,
    *,
    regions: list[RegionChoice] | None = None,
    names_only: bool = False,
) -> Resolution:
    manifest = _manifest(tmp_path, text)
    return resolve_desired(
        manifest,
        tmp_path,
        manifest.environment,
        process_env=env or {},
        regions=regions,
        names_only=names_only,
    )


def _errors(resolution: Resolution) -> list[tuple[str, str]]:
    return [(d.path, d.summary) for d in resolution.diagnostics if d.severity == "error"]


SECRET_WEB = HEAD + "services:\n  web:\n    port: 80\n    env:\n      TOKEN: ${{ secrets.TOKEN }}\n"


def test_a_secret_comes_from_the_process_env_first(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TOKEN=from-file\n")
    resolution = _resolve(tmp_path, SECRET_WEB, {"TOKEN": "from-env"})
    assert resolution.desired is not None
    value = resolution.desired.services["web"].env["TOKEN"]
    assert value.secret_names == ("TOKEN",)
    assert value.parts[0].value.get_secret_value() == "from-env"  # type: ignore[union-attr]
    from_file = _resolve(tmp_path, SECRET_WEB, {})
    assert from_file.desired is not None
    part = from_file.desired.services["web"].env["TOKEN"].parts[0]
    assert part.value.get_secret_value() == "from-file"  # type: ignore[union-attr]


def test_an_unset_secret_is_an_error_naming_it(tmp_path: Path) -> None:
    resolution = _resolve(tmp_path, SECRET_WEB)
    assert resolution.desired is None
    assert _errors(resolution) == [("services.web.env.TOKEN", "secret TOKEN is not set")]
    assert "Export TOKEN" in resolution.diagnostics[0].detail


def test_an_empty_secret_is_an_error_unless_allowed(tmp_path: Path) -> None:
    resolution = _resolve(tmp_path, SECRET_WEB, {"TOKEN": ""})
    assert _errors(resolution) == [("services.web.env.TOKEN", "secret TOKEN is empty")]
    allowed = SECRET_WEB.replace("secrets.TOKEN }}", "secrets.TOKEN || '' }}")
    for env in ({"TOKEN": ""}, {}):
        resolution = _resolve(tmp_path, allowed, env)
        assert resolution.desired is not None, resolution.diagnostics
        part = resolution.desired.services["web"].env["TOKEN"].parts[0]
        assert part.value.get_secret_value() == ""  # type: ignore[union-attr]


def test_a_build_env_secret_is_checked_too(tmp_path: Path) -> None:
    text = HEAD + "services:\n  web:\n    port: 80\n    build_env:\n      K: ${{ secrets.K }}\n"
    assert _errors(_resolve(tmp_path, text)) == [
        ("services.web.build_env.K", "secret K is not set")
    ]


def test_names_only_needs_no_secret_nor_source(tmp_path: Path) -> None:
    resolution = _resolve(tmp_path, SECRET_WEB, names_only=True)
    assert resolution.desired is not None
    assert resolution.desired.source.digest == NOT_READ
    assert resolution.source is None
    assert resolution.desired.services["web"].source_digest is None


def test_a_full_resolution_digests_the_source(tmp_path: Path) -> None:
    resolution = _resolve(tmp_path, SECRET_WEB, {"TOKEN": "t"})
    assert resolution.desired is not None and resolution.source is not None
    assert resolution.desired.source.digest == resolution.source.digest
    assert resolution.desired.source.digest != NOT_READ
    assert resolution.desired.services["web"].source_digest == resolution.source.services["web"]


def test_literal_and_dependency_parts(tmp_path: Path) -> None:
    text = (
        HEAD
        + "dependencies:\n  db:\n    type: postgres\n"
        + "services:\n  web:\n    port: 80\n    uses: [db]\n    env:\n"
        + "      URL: pre-${{ dependencies.db.DATABASE_URL }}\n      EMPTY: ''\n"
    )
    resolution = _resolve(tmp_path, text)
    assert resolution.desired is not None, resolution.diagnostics
    env = resolution.desired.services["web"].env
    url = env["URL"].parts
    assert url[0].text == "pre-"  # type: ignore[union-attr]
    assert (url[1].dependency, url[1].key) == ("db", "DATABASE_URL")  # type: ignore[union-attr]
    assert len(env["EMPTY"].parts) == 1 and env["EMPTY"].parts[0].text == ""  # type: ignore[union-attr]
    assert resolution.desired.dependencies["db"].type == "postgres"
    assert resolution.desired.services["web"].uses == ("db",)


REGIONAL = HEAD.replace("name: shop\n", "name: shop\n  region: {}\n") + (
    "services:\n  web:\n    port: 80\n"
)


@pytest.mark.parametrize(("region", "expected"), [("eu-1", "r-1"), ("r-2", "r-2")])
def test_a_region_is_found_by_code_or_id(tmp_path: Path, region: str, expected: str) -> None:
    resolution = _resolve(tmp_path, REGIONAL.format(region), regions=REGIONS)
    assert resolution.desired is not None, resolution.diagnostics
    assert resolution.desired.region_id == expected


def test_auto_or_unread_regions_leave_the_region_unmanaged(tmp_path: Path) -> None:
    auto = _resolve(tmp_path, REGIONAL.format("auto"), regions=REGIONS)
    assert auto.desired is not None and auto.desired.region_id is None
    unread = _resolve(tmp_path, REGIONAL.format("eu-1"), regions=None)
    assert unread.desired is not None and unread.desired.region_id is None


def test_an_inactive_region_is_an_error(tmp_path: Path) -> None:
    resolution = _resolve(tmp_path, REGIONAL.format("ap-1"), regions=REGIONS)
    assert _errors(resolution) == [("project.region", "region ap-1 is not active")]


def test_an_unknown_region_lists_the_active_ones(tmp_path: Path) -> None:
    resolution = _resolve(tmp_path, REGIONAL.format("xx-9"), regions=REGIONS)
    assert _errors(resolution) == [("project.region", "unknown region 'xx-9'")]
    assert resolution.diagnostics[0].detail == "Active regions: eu-1, us-1."
    none_active = [RegionChoice("r-3", "ap-1", "Asia", False)]
    resolution = _resolve(tmp_path, REGIONAL.format("xx-9"), regions=none_active)
    assert resolution.diagnostics[0].detail == "Active regions: none."


GIT = "{git: https://git.example/shop.git, branch: main, token_env: GIT_TOKEN}"


def test_a_git_source_carries_its_token(tmp_path: Path) -> None:
    text = HEAD + f"services:\n  web:\n    port: 80\n    source: {GIT}\n"
    resolution = _resolve(tmp_path, text, {"GIT_TOKEN": "tok"})
    assert resolution.desired is not None, resolution.diagnostics
    source = resolution.desired.source
    assert (source.kind, source.git_url, source.branch) == (
        "git",
        "https://git.example/shop.git",
        "main",
    )
    assert source.digest == "git:https://git.example/shop.git#main"
    assert resolution.git_tokens == {"git_token": "tok"}
    assert resolution.desired.services["web"].source_path == "."
    for env in ({}, {"GIT_TOKEN": ""}):
        refused = _resolve(tmp_path, text, env)
        assert _errors(refused) == [
            ("services", "git token variable GIT_TOKEN is not set or empty")
        ]


def test_services_must_share_one_source(tmp_path: Path) -> None:
    other = GIT.replace("shop.git", "other.git")
    mixed = HEAD + f"services:\n  web:\n    port: 80\n    source: {GIT}\n  api:\n    port: 81\n"
    two = HEAD + (
        f"services:\n  web:\n    port: 80\n    source: {GIT}\n"
        f"  api:\n    port: 81\n    source: {other}\n"
    )
    same = HEAD + (
        f"services:\n  web:\n    port: 80\n    source: {GIT}\n"
        f"  api:\n    port: 81\n    source: {GIT}\n"
    )
    env = {"GIT_TOKEN": "tok"}
    for text in (mixed, two):
        assert _errors(_resolve(tmp_path, text, env)) == [
            ("services", "all services of a project must share one source")
        ]
    assert _resolve(tmp_path, same, env).desired is not None


def test_source_paths_and_env_files(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    text = HEAD + (
        "services:\n  web:\n    port: 80\n  api:\n    port: 81\n    source: ./api/\n"
        "    env_files: [api/.env, shared.env]\n"
    )
    manifest = _manifest(tmp_path, text)
    assert service_source_path(manifest.services["web"]) == "."
    assert service_source_path(manifest.services["api"]) == "api"
    paths = env_file_paths(manifest, "production")
    assert "api/.env" in paths and "shared.env" in paths and ".env" in paths
    assert list(paths) == sorted(set(paths))


def test_resources_reach_the_desired_service(tmp_path: Path) -> None:
    text = HEAD + (
        "services:\n  web:\n    port: 80\n    replicas: 2\n    resources:\n"
        "      cpu: {request: 250m, limit: '1'}\n      memory: {request: 128Mi, limit: 1Gi}\n"
    )
    resolution = _resolve(tmp_path, text)
    assert resolution.desired is not None, resolution.diagnostics
    web = resolution.desired.services["web"]
    assert (web.cpu_request, web.cpu_limit) == ("250m", "1")
    assert (web.memory_request, web.memory_limit) == ("128Mi", "1Gi")
    assert web.replicas == 2
