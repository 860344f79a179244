"""Secrets never leak: a canary token and a canary env value go through login, whoami and
failing client calls; neither appears in any output, log file, exception message or repr."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from opendeploy_plan.auditlog import AuditLog
from opendeploy_plan.cli import main
from opendeploy_plan.gateway import GatewayError, RetryPolicy, open_client
from tests.gateway.helpers import admin

CANARY_ENV_VALUE = "canary-env-value-9f31c7d2"


def everything_about(error: BaseException) -> str:
    parts = [str(error), repr(error)]
    for attribute in ("hint", "reason", "details", "message", "location"):
        parts.append(str(getattr(error, attribute, "")))
    if error.__cause__ is not None:
        parts.append(everything_about(error.__cause__))
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        parts.append(everything_about(cause))
    return "\n".join(parts)


def test_canaries_never_leak(
    live_gateway: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    canary_token = live_gateway.dashboard_token  # a real, working token is the canary
    home = tmp_path / "home"
    logs = tmp_path / "logs"
    env = {
        "HOME": str(home),
        "OPDEPLOY_LOG_DIR": str(logs),
        "OPDEPLOY_AUTH_FILE": None,
        "OD_API_KEY": None,
        "OD_GATEWAY": None,
    }
    monkeypatch.chdir(tmp_path)
    for key, value in env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    seen: list[str] = []

    runner = CliRunner()
    for args, stdin in (
        (["login", "--token", "-", "--gateway", live_gateway.base_url], canary_token + "\n"),
        (
            ["login", "--token", "-", "--gateway", live_gateway.base_url, "--force"],
            "od_k" + "X" * 43,
        ),
        (["login", "--token", "-", "--gateway", live_gateway.base_url, "--force"], canary_token),
        (["whoami"], None),
        (["whoami", "--json"], None),
        (["whoami", "--gateway", "https://elsewhere.example/api"], None),
    ):
        result = runner.invoke(main, args, input=stdin, catch_exceptions=False)
        seen += [result.stdout, result.stderr]

    errors: list[GatewayError] = []
    asyncio.run(failing_client_calls(live_gateway, env, home, canary_token, errors, seen))

    assert [type(e).__name__ for e in errors] == [
        "InvalidRequest",
        "ServerError",
        "OutcomeUnknown",
        "Unauthorized",
    ]
    seen += [everything_about(e) for e in errors]
    captured = capfd.readouterr()
    seen += [captured.out, captured.err]
    assert logs.is_dir() and any(logs.iterdir()), "the run wrote an audit log"
    seen += [path.read_text() for path in logs.rglob("*") if path.is_file()]
    # Everything odplan keeps under ~/.opendeploy except the credential file itself.
    seen += [
        path.read_text(errors="replace")
        for path in (home / ".opendeploy").rglob("*")
        if path.is_file() and path.name != "auth.json"
    ]
    haystack = "\n".join(seen)
    assert canary_token not in haystack
    assert "Y" * 43 not in haystack and "X" * 43 not in haystack
    assert CANARY_ENV_VALUE not in haystack
    assert "od_k***" in haystack, "the redacted form is what users see"
    assert json.loads((home / ".opendeploy" / "auth.json").read_text())["api_key"] == canary_token


async def failing_client_calls(
    live_gateway: Any,
    env: dict[str, str | None],
    home: Path,
    canary_token: str,
    errors: list[GatewayError],
    seen: list[str],
) -> None:
    audit = AuditLog.for_env()
    async with open_client(retry=RetryPolicy(max_retries=1, base_delay=0.001)) as client:
        region = await client.active_region()
        project = await client.create_project("canary", region_id=region.id)
        created = await client.create_service(
            project.id,
            {
                "name": "web",
                "type": "web",
                "environment": "production",
                "runtime_variables": {"API_SECRET": CANARY_ENV_VALUE},
            },
        )
        variables = {"API_SECRET": CANARY_ENV_VALUE, "K" * 200: CANARY_ENV_VALUE}
        try:
            await client.replace_env(project.id, created.service_id, variables)
        except GatewayError as error:
            errors.append(error)
        admin(live_gateway, "POST", "faults", {"kind": "error", "method": "PUT", "route": "*/env"})
        try:
            await client.replace_env(project.id, created.service_id, {"A": CANARY_ENV_VALUE})
        except GatewayError as error:
            errors.append(error)
        admin(live_gateway, "DELETE", "faults")
        admin(
            live_gateway,
            "POST",
            "faults",
            {"kind": "lost_response", "method": "POST", "route": "*/services/", "count": 1},
        )
        try:
            await client.create_service(
                project.id,
                {
                    "name": "api",
                    "type": "web",
                    "environment": "production",
                    "runtime_variables": {"TOKEN": CANARY_ENV_VALUE},
                },
            )
        except GatewayError as error:
            errors.append(error)
        seen.append(repr(client))
        seen.append(repr(await client.get_env(project.id, created.service_id)))
        audit.info(
            "deploy.env_replace",
            project_id=project.id,
            var_keys=sorted(variables),
            var_count=len(variables),
            token=canary_token,
            api_key=canary_token,
        )
    stranger_env = {"HOME": str(home), "OD_API_KEY": "od_k" + "Y" * 43}
    async with open_client(live_gateway.base_url, env=stranger_env) as stranger:
        try:
            await stranger.regions()
        except GatewayError as error:
            errors.append(error)
