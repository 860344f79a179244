"""Static sites (index.html, Staticfile, public/) and compose projects (compose files first for
databases and ports)."""

from __future__ import annotations

from tests.analyze.corpus import App, package_json

COMPOSE_PG_REDIS = """services:
  web:
    build: .
    ports:
      - "8000:8000"
    depends_on: [db, cache]
  db:
    image: postgres:16
  cache:
    image: redis:7-alpine
"""

APPS = [
    App("static-index", {"index.html": "<h1>Hi</h1>\n", "style.css": "h1{}\n"},
        "html", "static", None, None),
    App("staticfile-root",
        {"Staticfile": "root: site\n", "site/index.html": "<h1>Hi</h1>\n"},
        "html", "static", None, None),
    App("static-json-root",
        {"static.json": '{"root": "site/", "clean_urls": true}\n', "site/index.html": "<p>hi</p>\n"},
        "html", "static", None, None),
    App("public-folder",
        {"public/index.html": "<h1>Hi</h1>\n", "public/app.js": "console.log(1)\n", "README.md": "# site\n"},
        "html", "static", None, None),
    App("static-docs-root",
        {"docs/index.html": "<h1>docs</h1>\n", "Staticfile": "root: docs\n"},
        "html", "static", None, None),
    App("compose-fastapi-pg-redis",
        {"docker-compose.yml": COMPOSE_PG_REDIS, "requirements.txt": "fastapi\nuvicorn\n",
         "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
         "Dockerfile": "FROM python:3.12\nCOPY . .\nCMD uvicorn main:app --host 0.0.0.0 --port 8000\n"},
        "python", "web", 8000, "uvicorn main:app", ("postgres", "redis"), service="web"),
    App("compose-node-mongo",
        {"compose.yaml": "services:\n  api:\n    build: ./api\n    ports: ['3000:3000']\n"
         "  mongo:\n    image: mongo:7\n",
         "api/package.json": package_json({"express": "4"}, {"start": "node index.js"}),
         "api/index.js": "require('express')().listen(3000)\n"},
        "javascript", "web", 3000, "npm start", ("mongodb",), service="api"),
    App("compose-container-port",
        {"docker-compose.yaml": "services:\n  app:\n    build: .\n    ports:\n      - '80:5000'\n"
         "  db:\n    image: mariadb:11\n",
         "requirements.txt": "flask\n", "app.py": "from flask import Flask\napp = Flask(__name__)\n"},
        "python", "web", 5000, "flask", ("mysql",), service="app"),
    App("compose-worker",
        {"docker-compose.yml": "services:\n  worker:\n    build: .\n    command: python worker.py\n"
         "    depends_on: [redis]\n  redis:\n    image: valkey/valkey:8\n",
         "requirements.txt": "redis\n", "worker.py": "import redis\n"},
        "python", "worker", None, "python worker.py", ("redis",), service="worker"),
    App("dockerfile-go-expose",
        {"Dockerfile": "FROM golang:1.22 AS build\nCOPY . .\nRUN go build -o /srv .\n"
         "FROM gcr.io/distroless/base\nCOPY --from=build /srv /srv\nEXPOSE 9000\nENTRYPOINT [\"/srv\"]\n",
         "go.mod": "module x\n\ngo 1.22\n", "main.go": 'package main\n\nimport "net/http"\n\nfunc main() { http.ListenAndServe(":9000", nil) }\n'},
        "go", "web", 9000, "/srv"),
]
