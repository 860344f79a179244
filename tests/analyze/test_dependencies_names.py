"""Which databases a service's variable names and drivers imply, and how a used dependency's
keys are wired into the service (analyze-local.md §4): `DB_HOST` of a Postgres app reads
`${{ dependencies.postgres.POSTGRES_HOST }}`, an exact provided key is left to `uses:`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opendeploy_plan.analyze import Analysis, analyze, render_manifest


def _app(root: Path, deps: list[str], example: str) -> tuple[Analysis, str]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(
        json.dumps(
            {
                "name": "a",
                "dependencies": {d: "1" for d in deps},
                "scripts": {"start": "node index.js"},
            }
        )
    )
    (root / "index.js").write_text("app.listen(3000)\n")
    (root / ".env.example").write_text(example)
    analysis = analyze(root, environment="production")
    return analysis, render_manifest(analysis)


@pytest.mark.parametrize(
    ("name", "db_type"),
    [
        ("POSTGRES_HOST", "postgres"),
        ("PG_HOST", "postgres"),
        ("POSTGRESQL_URL", "postgres"),
        ("MYSQL_HOST", "mysql"),
        ("MARIADB_HOST", "mysql"),
        ("MONGO_URL", "mongodb"),
        ("MONGODB_URI", "mongodb"),
        ("REDIS_URL", "redis"),
        ("VALKEY_URL", "redis"),
        ("CLICKHOUSE_URL", "clickhouse"),
        ("PGHOST", None),
        ("REDISX", None),
        ("DATABASE_URL", None),
    ],
)
def test_a_variable_name_implies_its_database(
    name: str, db_type: str | None, tmp_path: Path
) -> None:
    analysis, manifest = _app(tmp_path / "app", [], f"{name}=\n")
    found = [(d.name, d.type) for d in analysis.dependencies]
    (service,) = analysis.services
    if db_type is None:
        assert found == []
        assert service.uses == []
    else:
        assert found == [(db_type, db_type)]
        assert service.uses == [db_type]
        assert f"  {db_type}:\n    type: {db_type}" in manifest
    if name == "DATABASE_URL":
        assert any("database type could not be told" in note for note in service.notes)


@pytest.mark.parametrize(
    ("driver", "name", "reference"),
    [
        ("pg", "DB_URL", "postgres.DATABASE_URL"),
        ("pg", "DATABASE_DSN", "postgres.DATABASE_URL"),
        ("pg", "DB_CONNECTION_STRING", "postgres.DATABASE_URL"),
        ("pg", "DB_HOST", "postgres.POSTGRES_HOST"),
        ("pg", "PG_HOSTNAME", "postgres.POSTGRES_HOST"),
        ("pg", "DB_PORT", "postgres.POSTGRES_PORT"),
        ("pg", "DB_USER", "postgres.POSTGRES_USER"),
        ("pg", "DB_USERNAME", "postgres.POSTGRES_USER"),
        ("pg", "DB_PASSWORD", "postgres.POSTGRES_PASSWORD"),
        ("pg", "DB_NAME", "postgres.POSTGRES_DB"),
        ("pg", "DB_DATABASE", "postgres.POSTGRES_DB"),
        ("mysql2", "DB_HOST", "mysql.MYSQL_HOST"),
        ("mysql2", "DB_NAME", "mysql.MYSQL_DATABASE"),
        ("mysql2", "MYSQL_DB", "mysql.MYSQL_DATABASE"),
        ("mysql2", "DB_URI", "mysql.DATABASE_URL"),
        ("mongodb", "MONGO_URL", "mongodb.MONGODB_URI"),
        ("mongodb", "MONGO_HOST", "mongodb.MONGODB_HOST"),
        ("redis", "REDIS_HOSTNAME", "redis.REDIS_HOST"),
        ("redis", "REDIS_PASS", "redis.REDIS_PASSWORD"),
    ],
)
def test_aliases_point_at_the_dependency_key_of_the_same_meaning(
    driver: str, name: str, reference: str, tmp_path: Path
) -> None:
    _analysis, manifest = _app(tmp_path / "app", [driver], f"{name}=\n")
    assert f'{name}: "${{{{ dependencies.{reference} }}}}"  # .env.example' in manifest


@pytest.mark.parametrize(
    ("driver", "name"),
    [("pg", "PGUSER"), ("mongodb", "MONGO_DB"), ("redis", "CACHE_URL")],
)
def test_names_without_a_matching_key_stay_required(driver: str, name: str, tmp_path: Path) -> None:
    _analysis, manifest = _app(tmp_path / "app", [driver], f"{name}=\n")
    assert f'# {name}: ""  # TODO required, no value found (.env.example)' in manifest


@pytest.mark.parametrize("name", ["POSTGRES_HOST", "DATABASE_URL", "POSTGRES_PASSWORD"])
def test_exact_provided_keys_are_left_to_uses(name: str, tmp_path: Path) -> None:
    _analysis, manifest = _app(tmp_path / "app", ["pg"], f"{name}=\n")
    assert f"# {name}: provided by dependency postgres via uses (.env.example)" in manifest


@pytest.mark.parametrize(
    ("value", "db_type"),
    [
        ("pgsql", "postgres"),
        ("postgres", "postgres"),
        ("postgresql", "postgres"),
        ("mysql", "mysql"),
        ("MySQL", "mysql"),
        ("mariadb", "mysql"),
        ("mongodb", "mongodb"),
        ("sqlite", None),
    ],
)
def test_db_connection_names_the_engine(value: str, db_type: str | None, tmp_path: Path) -> None:
    analysis, _manifest = _app(tmp_path / "app", [], f"DB_CONNECTION={value}\n")
    assert [d.type for d in analysis.dependencies] == ([db_type] if db_type else [])


def test_a_compose_url_to_a_dependency_uses_the_dependency_url(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "docker-compose.yml").write_text(
        "services:\n  web:\n    build: .\n    depends_on: [cache]\n    environment:\n"
        "      CACHE_ENDPOINT: redis://cache:6379/1\n      OTHER_ENDPOINT: redis://elsewhere:6379\n"
        "  cache:\n    image: redis:7\n"
    )
    analysis, manifest = _app(root, [], "")
    assert [(d.name, d.type) for d in analysis.dependencies] == [("cache", "redis")]
    assert 'CACHE_ENDPOINT: "${{ dependencies.cache.REDIS_URL }}"' in manifest
    assert 'OTHER_ENDPOINT: "redis://elsewhere:6379"' in manifest
