"""Multi-service layouts, refusals and the port-priority rules, end to end through `analyze`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from opendeploy_plan.analyze import analyze, render_manifest

FIXTURES = Path(__file__).parent / "fixtures"


def test_compose_services_become_services_and_db_images_dependencies() -> None:
    analysis = analyze(FIXTURES / "compose-stack")
    assert analysis.refusal is None
    assert analysis.layout == "compose"
    services = {s.name: s for s in analysis.services}
    assert set(services) == {"api", "worker"}
    assert {(d.name, d.type) for d in analysis.dependencies} == {
        ("db", "postgres"),
        ("cache", "redis"),
    }
    api, worker = services["api"], services["worker"]
    assert api.kind == "web" and api.port is not None and api.port.port == 8000
    assert api.source == "api" and api.dockerfile == "Dockerfile"
    assert api.uses == ["db", "cache"]
    assert worker.kind == "worker" and worker.port is None
    assert worker.uses == ["db", "cache"]
    assert worker.after == ["api"]
    assert any("mailhog" in note for note in analysis.notes)


def test_compose_hostnames_are_replaced_by_dependency_references() -> None:
    text = render_manifest(analyze(FIXTURES / "compose-stack"))
    assert "redis://cache" not in text and "postgres://app" not in text
    assert 'BROKER_URL: "${{ dependencies.cache.REDIS_URL }}"' in text
    assert "# DATABASE_URL: provided by dependency db via uses" in text


def test_pnpm_turbo_monorepo_apps_become_services_and_libraries_do_not() -> None:
    analysis = analyze(FIXTURES / "pnpm-turbo")
    assert analysis.layout == "workspaces"
    services = {s.name: s for s in analysis.services}
    assert set(services) == {"web", "api"}
    web, api = services["web"], services["api"]
    assert web.source == "apps/web"
    assert web.framework is not None and web.framework.value == "nextjs"
    assert api.framework is not None and api.framework.value == "express"
    assert api.port is not None and api.port.port == 4000
    # The lockfile lives at the workspace root, not in the app folders.
    for service in (web, api):
        assert service.package_manager is not None
        assert service.package_manager.value == "pnpm"
    assert api.uses == ["postgres"] and web.uses == []
    assert any("packages/ui" in note for note in analysis.notes)


def test_mining_markers_are_refused_with_one_sentence() -> None:
    analysis = analyze(FIXTURES / "mining")
    assert analysis.refusal is not None
    assert "xmrig" in analysis.refusal or "stratum+tcp://" in analysis.refusal
    assert analysis.refusal.count(". ") == 0 and analysis.refusal.endswith(".")


def test_wallet_address_env_reads_are_refused(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"express": "4"}}')
    (tmp_path / "index.js").write_text(
        "require('express')().listen(3000); const w = process.env.WALLET_ADDRESS;\n"
    )
    analysis = analyze(tmp_path)
    assert analysis.refusal is not None and "WALLET_ADDRESS" in analysis.refusal


def test_no_entrypoint_or_port_is_said_honestly() -> None:
    analysis = analyze(FIXTURES / "no-entrypoint")
    assert analysis.refusal is not None
    assert "no language or Dockerfile" in analysis.refusal
    assert "README.md" in analysis.refusal and "data.csv" in analysis.refusal


def test_unknown_stack_with_dockerfile_is_not_mislabelled() -> None:
    service = analyze(FIXTURES / "dockerfile-only").services[0]
    assert service.language is not None and service.language.value == "unknown"
    assert service.language.confidence == "low"
    text = render_manifest(analyze(FIXTURES / "dockerfile-only"))
    assert "\n    language:" not in text
    assert "# language: unknown" in text


def test_dockerfile_expose_beats_code_and_the_conflict_is_noted(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"express": "4"}}')
    (tmp_path / "index.js").write_text("require('express')().listen(3000);\n")
    (tmp_path / "Dockerfile").write_text("FROM node:20\nEXPOSE 8080\nCMD node index.js\n")
    service = analyze(tmp_path).services[0]
    assert service.port is not None and service.port.port == 8080
    assert service.port.file == "Dockerfile"
    assert any("3000" in note for note in service.notes)


def test_ambiguous_port_is_a_placeholder_not_a_guess() -> None:
    text = render_manifest(analyze(FIXTURES / "ambiguous-ports"))
    assert "\n    port:" not in text
    assert "# port: TODO ambiguous, pick one of: 4000" in text and "9229" in text


def test_workers_have_no_port() -> None:
    for fixture in ("cmake", "make-c"):
        service = analyze(FIXTURES / fixture).services[0]
        assert service.kind == "worker" and service.port is None


def test_skipped_directories_are_never_read(fixture_copy: Callable[[str], Path]) -> None:
    root = fixture_copy("express")
    vendored = root / "node_modules" / "evil"
    vendored.mkdir(parents=True)
    (vendored / "index.js").write_text("spawn('xmrig'); app.listen(9999)")
    analysis = analyze(root)
    assert analysis.refusal is None
    assert analysis.services[0].port is not None and analysis.services[0].port.port == 8080


def test_project_name_is_a_dns_label(tmp_path: Path) -> None:
    root = tmp_path / "My_Cool.App"
    root.mkdir()
    (root / "index.html").write_text("<p>hi</p>")
    assert analyze(root).project_name == "my-cool-app"
    assert analyze(root, name="Shop Front").project_name == "shop-front"


def test_binary_miners_are_found_beyond_text_files(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>hi</p>")
    payload = b"\x00\x01" * 700_000 + b"donate-level XMRig/6.21" + b"\xff" * 10
    (tmp_path / "helper.bin").write_bytes(payload)
    analysis = analyze(tmp_path)
    assert analysis.refusal is not None and "helper.bin" in analysis.refusal


def test_a_python_app_in_a_js_monorepo_is_a_service(fixture_copy: Callable[[str], Path]) -> None:
    root = fixture_copy("pnpm-turbo")
    ml = root / "apps" / "ml"
    ml.mkdir()
    (ml / "pyproject.toml").write_text('[project]\nname = "ml"\ndependencies = ["fastapi"]\n')
    (ml / "main.py").write_text("from fastapi import FastAPI\napp = FastAPI()\n")
    analysis = analyze(root)
    services = {s.name: s for s in analysis.services}
    assert set(services) == {"web", "api", "ml"}
    ml_service = services["ml"]
    assert ml_service.framework is not None and ml_service.framework.value == "fastapi"
    assert ml_service.port is not None and ml_service.port.port == 8000


def test_wallet_connect_settings_of_a_dapp_are_not_mining(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"next": "14"}}')
    (tmp_path / "page.js").write_text(
        "const id = process.env.NEXT_PUBLIC_WALLET_CONNECT_PROJECT_ID;\n"
    )
    assert analyze(tmp_path).refusal is None
