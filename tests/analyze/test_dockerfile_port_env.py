"""A Dockerfile CMD that binds `$PORT` binds the port its `ENV PORT=` sets (found by the
real-apps sweep: `init` wrote gunicorn's default 8000 for `--bind 0.0.0.0:$PORT` under
`ENV PORT=8080`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.analyze import analyze


@pytest.mark.parametrize(
    ("cmd", "env", "port"),
    [
        ("CMD gunicorn --bind 0.0.0.0:$PORT wsgi:app", "ENV PORT=8080", 8080),
        (
            'CMD ["sh", "-c", "uvicorn main:app --host 0.0.0.0 --port ${PORT}"]',
            "ENV PORT 9000",
            9000,
        ),
        # Without an ENV PORT the command's own word stands.
        ("CMD gunicorn --bind 0.0.0.0:$PORT wsgi:app", "", 8000),
        # A port the command names outright is not replaced by the ENV.
        ("CMD gunicorn --bind 0.0.0.0:5000 wsgi:app", "ENV PORT=8080", 5000),
    ],
)
def test_a_dockerfile_cmd_binding_port_reads_its_env_port(
    tmp_path: Path, cmd: str, env: str, port: int
) -> None:
    (tmp_path / "requirements.txt").write_text("gunicorn\nuvicorn\n")
    (tmp_path / "wsgi.py").write_text("def app(environ, start_response):\n    return []\n")
    (tmp_path / "Dockerfile").write_text(
        f"FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n{env}\n{cmd}\n"
    )
    (service,) = analyze(tmp_path).services
    assert service.port is not None and service.port.port == port
    if env and str(port) in env:
        assert f"the Dockerfile's ENV PORT={port}" in service.port.reason
