"""One mini-app per supported stack: what `odplan init` must detect for each (table-driven)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from opendeploy_plan.analyze import ServiceAnalysis, analyze

FIXTURES = Path(__file__).parent / "fixtures"
AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class Expected:
    fixture: str
    language: str
    framework: str | None
    port: int | str | None  # an int, AMBIGUOUS, or None for workers and static sites
    package_manager: str | None
    kind: str = "web"
    build_env: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    uses: tuple[str, ...] = field(default=())


CASES = [
    # Node / TypeScript
    Expected(
        "nextjs",
        "typescript",
        "nextjs",
        3000,
        "pnpm",
        build_env=("NEXT_PUBLIC_API_URL",),
        env=("DATABASE_URL", "STRIPE_SECRET_KEY"),
        uses=("postgres",),
    ),
    Expected("nuxt", "typescript", "nuxt", 3000, "yarn", build_env=("NUXT_PUBLIC_API_BASE",)),
    Expected("remix", "javascript", "remix", 3000, "npm"),
    Expected("sveltekit", "javascript", "sveltekit", 3000, "npm", build_env=("PUBLIC_SITE_TITLE",)),
    Expected("astro", "javascript", "astro", 4321, "pnpm"),
    Expected(
        "vite-spa", "typescript", "vite", None, "npm", kind="static", build_env=("VITE_API_URL",)
    ),
    Expected(
        "cra",
        "javascript",
        "create-react-app",
        None,
        "yarn",
        kind="static",
        build_env=("REACT_APP_BACKEND_URL",),
    ),
    Expected("angular", "typescript", "angular", None, "npm", kind="static"),
    Expected(
        "express",
        "javascript",
        "express",
        8080,
        "npm",
        env=("MONGO_URL", "SESSION_SECRET"),
        uses=("mongodb",),
    ),
    Expected("fastify", "typescript", "fastify", 3001, "pnpm", env=("REDIS_URL",), uses=("redis",)),
    Expected("hono", "typescript", "hono", 8787, "npm", env=("GREETING",)),
    Expected("nestjs", "typescript", "nestjs", 3000, "npm"),
    Expected("koa", "javascript", "koa", 4000, "yarn", env=("MESSAGE",)),
    # Bun runs the TypeScript entry itself; Deno is its own runtime (issue 15).
    Expected("bun", "typescript", "bun", 3000, "bun", env=("WELCOME_TEXT",)),
    Expected("deno", "deno", "deno", 8000, "deno", env=("UPSTREAM_API_TOKEN",)),
    # Python
    Expected(
        "django",
        "python",
        "django",
        8000,
        "pip",
        env=("ALLOWED_HOSTS", "DJANGO_DEBUG", "DJANGO_SECRET_KEY"),
        uses=("postgres",),
    ),
    Expected("flask", "python", "flask", 5000, "poetry", env=("REGION_NAME",), uses=("redis",)),
    Expected(
        "fastapi",
        "python",
        "fastapi",
        8000,
        "uv",
        env=("DATABASE_URL", "INVENTORY_API_KEY", "LOG_LEVEL"),
        uses=("postgres",),
    ),
    Expected("starlette", "python", "starlette", 8000, "pipenv"),
    Expected("python-plain", "python", "python", 8081, "pdm"),
    # Ruby
    Expected("rails", "ruby", "rails", 3000, "bundler", env=("SMTP_PASSWORD",), uses=("postgres",)),
    Expected("sinatra", "ruby", "sinatra", 4567, "bundler", env=("GREETING",)),
    Expected("rack", "ruby", "rack", 9292, "bundler"),
    # PHP
    Expected(
        "laravel",
        "php",
        "laravel",
        8000,
        "composer",
        uses=("mysql",),
        env=("APP_KEY", "APP_NAME", "DB_CONNECTION", "DB_HOST", "DB_PASSWORD"),
    ),
    Expected("symfony", "php", "symfony", 8000, "composer"),
    Expected("php-plain", "php", "php", 8080, None, env=("SITE_NAME",)),
    # Go
    Expected("go-nethttp", "go", "net/http", 8080, "go", env=("BUILD_SHA",)),
    Expected("gin", "go", "gin", 8080, "go", uses=("postgres",)),
    Expected("echo", "go", "echo", 1323, "go"),
    Expected("fiber", "go", "fiber", 3000, "go", uses=("redis",)),
    Expected("chi", "go", "chi", 9000, "go"),
    # Rust
    Expected("actix", "rust", "actix", 8080, "cargo", env=("DATABASE_URL",), uses=("postgres",)),
    Expected("axum", "rust", "axum", 3000, "cargo"),
    Expected("rocket", "rust", "rocket", 8000, "cargo"),
    Expected("rust-plain", "rust", None, 7878, "cargo"),
    # JVM, .NET, Elixir
    Expected(
        "spring-maven",
        "java",
        "spring-boot",
        8081,
        "maven",
        env=("BILLING_API_KEY", "DATABASE_URL"),
        uses=("postgres",),
    ),
    Expected("spring-gradle-kotlin", "kotlin", "spring-boot", 8080, "gradle"),
    Expected("quarkus", "java", "quarkus", 8080, "maven"),
    Expected(
        "aspnet",
        "csharp",
        "aspnetcore",
        8080,
        "dotnet",
        env=("PAYMENTS_API_KEY",),
        uses=("postgres",),
    ),
    Expected(
        "phoenix", "elixir", "phoenix", 4000, "mix", env=("SECRET_KEY_BASE",), uses=("postgres",)
    ),
    # Static sites and Dockerfile-only
    Expected("static-html", "html", "static", None, None, kind="static"),
    Expected("hugo", "html", "hugo", None, None, kind="static"),
    Expected("jekyll", "html", "jekyll", None, "bundler", kind="static"),
    Expected("jekyll-output", "html", "jekyll", None, None, kind="static"),
    Expected("dockerfile-only", "unknown", "docker", 9090, None, build_env=("BUILD_VERSION",)),
    # The long tail, by build file
    Expected("clojure", "clojure", "ring", 3000, "leiningen"),
    Expected("scala", "scala", "play", 9000, "sbt"),
    Expected("haskell", "haskell", "scotty", 3000, "cabal"),
    Expected("swift", "swift", "vapor", 8080, "swiftpm"),
    Expected("dart", "dart", "shelf", 8080, "pub"),
    Expected("crystal", "crystal", "kemal", 3000, "shards"),
    Expected("gleam", "gleam", "wisp", 8000, "gleam"),
    Expected("zig", "zig", None, 8080, "zig"),
    Expected("cmake", "cpp", None, None, "cmake", kind="worker"),
    Expected("make-c", "c", None, None, "make", kind="worker"),
    Expected("shell", "shell", None, 8000, None),
    # Ambiguity: two candidate ports of equal standing are never silently picked
    Expected("ambiguous-ports", "javascript", "express", AMBIGUOUS, "npm"),
    Expected("ambiguous-code-ports", "javascript", "koa", AMBIGUOUS, "npm"),
]


def _only_service(fixture: str) -> ServiceAnalysis:
    analysis = analyze(FIXTURES / fixture)
    assert analysis.refusal is None, analysis.refusal
    assert len(analysis.services) == 1, [s.name for s in analysis.services]
    return analysis.services[0]


@pytest.mark.parametrize("case", CASES, ids=[c.fixture for c in CASES])
def test_detects_stack(case: Expected) -> None:
    service = _only_service(case.fixture)
    assert service.language is not None
    assert service.language.value == case.language
    assert (service.framework.value if service.framework else None) == case.framework
    assert service.kind == case.kind
    manager = service.package_manager.value if service.package_manager else None
    assert manager == case.package_manager
    if case.port == AMBIGUOUS:
        assert service.port is None
        assert len({c.port for c in service.port_ambiguous}) >= 2
        assert service.confidence == "low"
    elif case.port is None:
        assert service.port is None and not service.port_ambiguous
    else:
        assert service.port is not None
        assert service.port.port == case.port
    runtime = {v.name for v in service.env if not v.build_time}
    build = {v.name for v in service.env if v.build_time}
    assert runtime == set(case.env)
    assert build == set(case.build_env)
    assert tuple(service.uses) == case.uses


def test_every_fixture_folder_is_covered() -> None:
    """A fixture added without an expectation is a test nobody wrote."""
    special = {"mining", "no-entrypoint", "compose-stack", "pnpm-turbo"}
    covered = {c.fixture for c in CASES} | special
    on_disk = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert on_disk == covered


def test_every_fact_names_the_file_it_came_from() -> None:
    for case in CASES:
        service = _only_service(case.fixture)
        root = FIXTURES / case.fixture
        for fact in (service.language, service.framework, service.package_manager):
            if fact is not None:
                assert (root / fact.file.split(":")[0]).exists(), (case.fixture, fact)
        if service.port is not None:
            assert (root / service.port.file.split(":")[0]).exists(), (case.fixture, service.port)


def test_framework_defaults_are_medium_confidence_and_explicit_ports_high() -> None:
    assert _only_service("nextjs").port_confidence == "medium"
    assert _only_service("express").port_confidence == "high"


def test_backend_manifest_wins_over_asset_pipeline_package_json() -> None:
    service = _only_service("laravel")
    assert service.framework is not None and service.framework.value == "laravel"
    assert any("vite" in note for note in service.notes)


def test_launch_settings_are_not_a_port_source() -> None:
    service = _only_service("aspnet")
    assert service.port is not None and service.port.port != 5123


@pytest.mark.parametrize(
    ("fixture", "path"),
    [
        ("nextjs", "/api/health"),
        ("rails", "/up"),
        ("express", "/healthz"),
        ("flask", "/health"),
        ("actix", "/health"),
        ("go-nethttp", "/healthz"),
    ],
)
def test_health_check_path_comes_from_a_route(fixture: str, path: str) -> None:
    service = _only_service(fixture)
    assert service.health_check_path is not None
    assert service.health_check_path.value == path


def test_django_without_gunicorn_says_runserver_is_for_development(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("Django==5.0\n")
    (tmp_path / "manage.py").write_text("if __name__ == '__main__':\n    pass\n")
    service = analyze(tmp_path).services[0]
    assert service.start_command is not None and "runserver" in service.start_command.value
    assert any("development server" in note for note in service.notes)


def test_framework_config_without_the_dependency_is_medium_evidence(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(
        '{"scripts": {"build": "next build", "start": "next start"}}'
    )
    (tmp_path / "next.config.js").write_text("module.exports = {};\n")
    service = analyze(tmp_path).services[0]
    assert service.framework is not None
    assert (service.framework.value, service.framework.file) == ("nextjs", "next.config.js")
    assert service.framework.confidence == "medium"
    assert service.port is not None and service.port.port == 3000
