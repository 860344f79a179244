"""`odplan validate` as CI sees it: exit codes, output forms, environment selection."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from opendeploy_plan.cli import main

Write = Callable[..., Path]
VALID = "version: 1\nproject:\n  name: shop\nservices:\n  web:\n    port: 8080\n"


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["validate", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_a_valid_manifest_exits_zero_with_a_summary(write_manifest: Write) -> None:
    code, out, err = invoke("-f", str(write_manifest(VALID)))
    assert code == 0
    assert "valid for production (project shop, 1 service, 0 dependencies)" in out
    assert err == ""


def test_errors_exit_one_on_stderr(write_manifest: Write) -> None:
    path = write_manifest(VALID.replace("8080", "0"))
    code, out, err = invoke("-f", str(path))
    assert code == 1
    assert out == ""
    assert f"{path}:6:11: error: services.web.port: must be between 1 and 65535 (got 0)" in err
    assert "1 error" in err


def test_the_default_file_is_opendeploy_yaml_in_the_current_folder(
    write_manifest: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(write_manifest(VALID).parent)
    code, out, _ = invoke()
    assert code == 0 and out.startswith("opendeploy.yaml: valid")


def test_a_missing_file_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke()
    assert code == 1
    assert "opendeploy.yaml: error: no such file" in err


def test_json_lists_every_diagnostic(write_manifest: Write) -> None:
    path = write_manifest(VALID.replace("8080", "0") + "    env:\n      API_KEY: abc\n")
    code, out, _ = invoke("--json", "-f", str(path))
    assert code == 1
    assert json.loads(out) == [
        {
            "severity": "error",
            "summary": "must be between 1 and 65535 (got 0)",
            "detail": "",
            "file": str(path),
            "line": 6,
            "col": 11,
            "path": "services.web.port",
        },
        {
            "severity": "warning",
            "summary": "API_KEY looks like a secret written in plain text; "
            "use ${{ secrets.API_KEY }}",
            "detail": "The manifest is committed and reviewed; secrets belong in the "
            "environment or an untracked .env file.",
            "file": str(path),
            "line": 8,
            "col": 16,
            "path": "services.web.env.API_KEY",
        },
    ]


def test_json_of_a_valid_manifest_is_an_empty_list(write_manifest: Write) -> None:
    code, out, _ = invoke("--json", "-f", str(write_manifest(VALID)))
    assert (code, json.loads(out)) == (0, [])


def test_warnings_pass_unless_treated_as_errors(write_manifest: Write) -> None:
    path = write_manifest(VALID + "    env:\n      API_KEY: abc\n")
    assert invoke("-f", str(path))[0] == 0
    assert invoke("--warnings-as-errors", "-f", str(path))[0] == 1


STAGING_BREAKS = VALID + "environments:\n  staging:\n    services:\n      web:\n        port: 0\n"


def test_the_environment_comes_from_the_flag_or_od_environment(write_manifest: Write) -> None:
    path = str(write_manifest(VALID.replace("services:", "environment: staging\nservices:")))
    assert "valid for staging" in invoke("-f", path)[1]
    assert "valid for production" in invoke("-e", "production", "-f", path)[1]
    assert "valid for production" in invoke("-f", path, env={"OD_ENVIRONMENT": "production"})[1]


def test_an_unknown_environment_is_an_error(write_manifest: Write) -> None:
    code, _, err = invoke("-e", "qa", "-f", str(write_manifest(VALID)))
    assert code == 1 and "unknown environment 'qa'" in err


def test_the_installed_command_fails_cleanly_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "opendeploy.yaml"
    bad.write_bytes(b"version: 1\nproject: {name: caf\xe9}\n")
    done = subprocess.run(
        [sys.executable, "-m", "opendeploy_plan", "validate", "-f", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "not valid UTF-8" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_validate_does_not_import_the_network_or_web_stack() -> None:
    probe = (
        "import sys\n"
        "from opendeploy_plan.cli import main\n"
        "try:\n"
        "    main(['validate', '-f', 'examples/static-site/opendeploy.yaml'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('fastapi', 'uvicorn', 'networkx', 'deepdiff', 'httpx', 'rich', 'dotenv')\n"
        "print('HEAVY=' + ','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=repo
    ).stdout
    assert "HEAVY=\n" in out, out
