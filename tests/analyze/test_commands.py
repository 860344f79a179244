"""The start command decides the port: ports it names, or its server's default."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.analyze.commands import command_ports
from opendeploy_plan.analyze.model import Fact
from opendeploy_plan.analyze.repo import RepoView


@pytest.mark.parametrize(
    ("command", "port", "default"),
    [
        ("gunicorn app:app", 8000, True),
        ("gunicorn -b 0.0.0.0:5000 app:app", 5000, False),
        ("gunicorn app:app --bind 0.0.0.0:${PORT:-7000}", 7000, False),
        ("gunicorn app:app -b :$PORT", 8000, True),
        ("uvicorn main:app --host 0.0.0.0", 8000, True),
        ("uvicorn main:app --port=9001", 9001, False),
        ("hypercorn app:app", 8000, True),
        ("waitress-serve --port=6543 app:app", 6543, False),
        ("streamlit run app.py", 8501, True),
        ("streamlit run app.py --server.port 8502", 8502, False),
        ("python -m http.server 8081", 8081, False),
        ("python manage.py runserver 0.0.0.0:8001", 8001, False),
        ("PORT=4001 node server.js", 4001, False),
        ("node --inspect=0.0.0.0:9229 server.js --port 3001", 3001, False),
        ("java -Dserver.port=8082 -jar app.jar", 8082, False),
        ("./server -addr :9090", 9090, False),
        ("bundle exec rails server -b 0.0.0.0", 3000, True),
        ("./bin/thrust ./bin/rails server", 80, True),
        ("bundle exec rackup", 9292, True),
        ("php artisan serve --host 0.0.0.0", 8000, True),
        ("node .output/server/index.mjs", 3000, True),
        ("node build", 3000, True),
        ("mix phx.server", 4000, True),
    ],
)
def test_command_port(tmp_path: Path, command: str, port: int, default: bool) -> None:
    (found,) = command_ports(RepoView(tmp_path), ".", Fact(command, "Procfile", "web"))
    assert (found.port, found.default, found.rank) == (port, default, 0)


def test_no_port_for_a_plain_program(tmp_path: Path) -> None:
    assert command_ports(RepoView(tmp_path), ".", Fact("python worker.py", "Procfile", "")) == []


def test_package_scripts_shell_scripts_and_server_configs_are_followed(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"scripts": {"start": "next start -p 4100"}}')
    (tmp_path / "start.sh").write_text("#!/bin/sh\n# --port 1\nexec app --port ${PORT:-5200}\n")
    (tmp_path / "gunicorn.conf.py").write_text("bind = '0.0.0.0:8050'\n")
    (tmp_path / "config").mkdir()
    (tmp_path / "config/puma.rb").write_text('port ENV.fetch("PORT") { 3100 }\n')
    view = RepoView(tmp_path)
    for command, port in (
        ("npm start", 4100),
        ("sh start.sh", 5200),
        ("gunicorn -c gunicorn.conf.py app:app", 8050),
        ("bundle exec puma -C config/puma.rb", 3100),
    ):
        (found,) = command_ports(view, ".", Fact(command, "Procfile", "web"))
        assert found.port == port, command
