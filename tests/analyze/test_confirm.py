"""What init cannot tell is marked `# TODO confirm` and, with --interactive (or on a terminal),
asked; the answer is written. Real .env files are read with the same parser as `plan`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import CliRunner

from opendeploy_plan.analyze import analyze
from opendeploy_plan.analyze.envvars import parse_env_lines
from opendeploy_plan.cli import main
from opendeploy_plan.manifest.envfiles import load_env_files


def _web_without_port(root: Path) -> Path:
    root.mkdir()
    (root / "server.cob").write_text("       IDENTIFICATION DIVISION.\n")
    (root / "Procfile").write_text("web: ./server\n")
    return root


def _service(root: Path) -> dict[str, object]:
    data = yaml.safe_load((root / "opendeploy.yaml").read_text())
    services = data["services"]
    assert isinstance(services, dict) and len(services) == 1
    return dict(next(iter(services.values())))


def test_unknown_port_is_marked_not_refused(tmp_path: Path) -> None:
    root = _web_without_port(tmp_path / "cobol")
    result = CliRunner().invoke(main, ["init", str(root)])
    assert result.exit_code == 0, result.output
    text = (root / "opendeploy.yaml").read_text()
    assert "# TODO confirm port:" in text
    assert "# TODO confirm language: cobol" in text
    assert _service(root)["type"] == "web" and "port" not in _service(root)
    assert "confirm port" in result.output


def test_interactive_answer_is_written(tmp_path: Path) -> None:
    root = _web_without_port(tmp_path / "cobol")
    result = CliRunner().invoke(
        main, ["init", str(root), "--interactive"], input="x\n70000\n8081\n"
    )
    assert result.exit_code == 0, result.output
    assert "'x' is not a port" in result.output and "'70000' is not a port" in result.output
    assert _service(root)["port"] == 8081
    assert "TODO confirm port" not in (root / "opendeploy.yaml").read_text()


def test_interactive_ambiguous_port(fixture_copy: Callable[[str], Path]) -> None:
    root = fixture_copy("ambiguous-ports")
    result = CliRunner().invoke(main, ["init", str(root), "--interactive"], input="4000\n")
    assert result.exit_code == 0, result.output
    assert "one of 4000, 9229" in result.output
    assert _service(root)["port"] == 4000


def test_worker_question_empty_keeps_a_worker_and_a_port_makes_it_web(tmp_path: Path) -> None:
    for answer, kind, port in (("\n", "worker", None), ("9000\n", "web", 9000)):
        root = tmp_path / f"script-{kind}"
        root.mkdir()
        (root / ".python-version").write_text("3.12\n")
        (root / "main.py").write_text("if __name__ == '__main__':\n    print('hi')\n")
        result = CliRunner().invoke(main, ["init", str(root), "--interactive"], input=answer)
        assert result.exit_code == 0, result.output
        service = _service(root)
        assert service["type"] == kind and service.get("port") == port
        assert "TODO confirm type" not in (root / "opendeploy.yaml").read_text()


def test_no_questions_without_a_terminal(tmp_path: Path) -> None:
    root = _web_without_port(tmp_path / "cobol")
    result = CliRunner().invoke(main, ["init", str(root)], input="8081\n")
    assert result.exit_code == 0 and "which port" not in result.output
    assert "port" not in _service(root)


def test_only_an_unidentifiable_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 1 and "no language or Dockerfile" in result.output
    assert not (tmp_path / "opendeploy.yaml").exists()


DOTENV = (
    "PORT='3000' # the port\n"
    'API_TOKEN="abc def"  # a comment\n'
    'PRIVATE_KEY="-----BEGIN KEY-----\n'
    "bogus=line inside the value\n"
    '-----END KEY-----"\n'
    "export EXPORTED=1\n"
    "NO_VALUE\n"
)


def test_dotenv_is_parsed_like_plan_does(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(DOTENV)
    ours = dict(parse_env_lines(DOTENV))
    assert ours["PORT"] == "3000" and ours["API_TOKEN"] == "abc def"
    assert "bogus" not in ours and ours["PRIVATE_KEY"].count("\n") == 2
    assert ours == load_env_files(tmp_path, [".env"], "production")


def test_quoted_multiline_value_makes_no_bogus_key(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"express": "4"}}\n')
    (tmp_path / "index.js").write_text("require('express')().listen(3000)\n")
    (tmp_path / ".env").write_text(DOTENV)
    names = {v.name for v in analyze(tmp_path).services[0].env}
    assert {"API_TOKEN", "PRIVATE_KEY", "EXPORTED"} <= names
    assert "bogus" not in names and "NO_VALUE" not in names


def test_run_profiles_give_the_commands_to_run_each_service(tmp_path: Path) -> None:
    from opendeploy_plan.analyze import run_profiles

    (tmp_path / "requirements.txt").write_text("flask\ngunicorn\n")
    (tmp_path / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    (tmp_path / "Procfile").write_text("web: gunicorn app:app -b 0.0.0.0:5005\n")
    (profile,) = run_profiles(tmp_path)
    assert (profile.language, profile.type, profile.port) == ("python", "web", 5005)
    assert profile.start_command == "gunicorn app:app -b 0.0.0.0:5005"
    assert profile.install_command == "pip install -r requirements.txt"
    assert profile.package_manager == "pip" and profile.source == "."
    assert run_profiles(_empty(tmp_path / "empty")) == []


def _empty(root: Path) -> Path:
    root.mkdir()
    (root / "notes.txt").write_text("nothing to run\n")
    return root
