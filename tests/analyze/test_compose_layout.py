"""A docker-compose project: build services become services (port from `ports:`/`expose:`,
command, dockerfile, `after:` from depends_on on another service), database images become
dependencies of the platform type they map to, other images a note; `uses:` follows
depends_on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opendeploy_plan.analyze import analyze, render_manifest

COMPOSE = """services:
  api:
    build: ./api
    ports: ["127.0.0.1:8081:3001/tcp"]
    environment:
      - MODE=fast
      - BARE
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_started}
  web:
    build: {context: web, dockerfile: Dockerfile.prod}
    ports: [{target: 3002, published: 80}]
    depends_on: [api]
  worker:
    build: ./worker
    expose: ["3003"]
    command: ["node", "w.js"]
  db: {image: "postgis/postgis:16-3.4"}
  cache: {image: "bitnami/valkey:7"}
  docs: {image: "mongo@sha256:abc"}
  sql: {image: "mariadb:11"}
  queue: {image: "rabbitmq:3-management"}
  search: {image: "docker.elastic.co/elasticsearch/elasticsearch:8"}
  ts: {image: "timescale/timescaledb:latest-pg16"}
  ch: {image: "clickhouse/clickhouse-server"}
"""


def _node_service(root: Path, folder: str) -> None:
    (root / folder).mkdir(parents=True)
    (root / folder / "package.json").write_text(
        json.dumps(
            {"name": folder, "dependencies": {"express": "4"}, "scripts": {"start": "node i.js"}}
        )
    )
    (root / folder / "i.js").write_text("x\n")


@pytest.mark.parametrize(
    "filename", ["docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"]
)
def test_a_compose_project(filename: str, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    for folder in ("api", "web", "worker"):
        _node_service(root, folder)
    (root / "web" / "Dockerfile.prod").write_text("FROM node:20\n")
    (root / filename).write_text(COMPOSE)
    analysis = analyze(root, environment="production")
    assert (analysis.layout, analysis.refusal) == ("compose", None)
    assert [(d.name, d.type, d.compose_name) for d in analysis.dependencies] == [
        ("db", "postgres", "db"),
        ("cache", "redis", "cache"),
        ("docs", "mongodb", "docs"),
        ("sql", "mysql", "sql"),
        ("ts", "postgres", "ts"),
        ("ch", "clickhouse", "ch"),
    ]
    found = [
        (s.name, s.source, s.port.port if s.port else None, s.uses, s.after, s.dockerfile)
        for s in analysis.services
    ]
    assert found == [
        ("api", "api", 3001, ["db", "cache"], [], None),
        ("web", "web", 3002, [], ["api"], "Dockerfile.prod"),
        ("worker", "worker", 3003, [], [], None),
    ]
    worker = analysis.services[2]
    assert worker.start_command is not None
    assert worker.start_command.value == "node w.js"
    assert analysis.notes == [
        f"{filename}: service 'queue' (rabbitmq:3-management) has no opendeploy dependency "
        "type; provision it elsewhere",
        f"{filename}: service 'search' (docker.elastic.co/elasticsearch/elasticsearch:8) has "
        "no opendeploy dependency type; provision it elsewhere",
    ]
    manifest = render_manifest(analysis)
    assert (
        "    uses: [db, cache]  # db: compose depends_on db; cache: compose depends_on cache"
        in (manifest)
    )
    assert "    after: [api]\n" in manifest
    assert '      MODE: "fast"  # default from ' in manifest
    assert "      # BARE: no value found; set one if it is needed" in manifest
