"""How `odplan plan` fails, and how it warns: manifest errors before any request, a missing
secret named, a gateway rejection with its reason and a hint (never a traceback), and the guest
caps with the bind URL for an unbound guest credential."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from opendeploy_plan import platform
from opendeploy_plan.gateway import write_auth_file
from tests.e2e.conftest import GUEST_MANIFEST, MANIFEST, Odplan, assert_no_canary, write_app


def test_a_manifest_error_exits_1_with_its_location_before_any_request(odplan: Odplan) -> None:
    odplan.manifest.write_text(MANIFEST.replace("port: 8080", "port: eighty"))
    odplan.admin("DELETE", "/requests")

    result = odplan.plan("--detailed-exitcode")

    assert result.exit_code == 1
    assert re.search(r"opendeploy\.yaml:\d+:\d+", result.stderr), result.stderr
    assert "port" in result.stderr
    assert result.stdout == ""
    assert odplan.admin("GET", "/requests")["total"] == 0


def test_a_missing_secret_exits_1_and_names_it(odplan: Odplan) -> None:
    result = odplan.plan("--detailed-exitcode", env={"SHOP_API_TOKEN": None})

    assert result.exit_code == 1
    assert "SHOP_API_TOKEN" in result.stderr
    line = next(
        n
        for n, text in enumerate(odplan.manifest.read_text().splitlines(), 1)
        if "API_TOKEN:" in text
    )
    assert f"opendeploy.yaml:{line}:" in result.stderr  # file:line:col of the value
    assert "error: services.api.env.API_TOKEN: secret SHOP_API_TOKEN is not set" in result.stderr
    assert result.stdout == ""
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_secret_from_an_env_file_is_used_and_never_shown(odplan: Odplan) -> None:
    (odplan.manifest.parent / ".env").write_text("SHOP_API_TOKEN=canary-7f3a9e51-do-not-print\n")

    result = odplan.plan("--detailed-exitcode", env={"SHOP_API_TOKEN": None})

    assert result.exit_code == 2, result.stderr
    assert_no_canary(result.stdout, result.stderr, home=odplan.home)


def test_a_rejected_token_exits_1_with_the_reason_and_a_hint(odplan: Odplan) -> None:
    odplan.env["OD_API_KEY"] = "od_k" + "0" * 40

    result = odplan.subprocess(
        "plan", "-f", str(odplan.manifest), "--gateway", odplan.gateway.base_url,
        "--detailed-exitcode",
    )  # fmt: skip

    assert result.returncode == 1
    assert "error:" in result.stderr
    assert "hint:" in result.stderr
    assert "HTTP 401" in result.stderr  # the gateway's answer, then what to do about it
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_an_unbound_guest_gets_the_caps_warning_and_the_bind_url(
    odplan: Odplan, tmp_path: Path
) -> None:
    registered = httpx.post(
        f"{odplan.gateway.base_url}/v1/client-guests/register",
        json={"source_hint": "odplan/e2e", "name": "e2e"},
        timeout=30,
    )
    registered.raise_for_status()
    guest = registered.json()
    auth_file = odplan.home / "auth.json"
    write_auth_file(
        auth_file,
        api_key=guest["api_key"],
        gateway=odplan.gateway.base_url,
        guest_id=guest["guest_id"],
        bind_sig=guest["bind_sig"],
    )
    manifest = write_app(tmp_path / "solo", GUEST_MANIFEST)

    result = odplan.invoke(
        "plan", "-f", str(manifest), "--gateway", odplan.gateway.base_url,
        env={"OD_API_KEY": None, "OD_GATEWAY": None},
    )  # fmt: skip

    # The caps are errors (issue 16 item 5): the gateway would answer 403 at apply.
    assert result.exit_code == 1, result.stderr
    bind_url = platform.bind_url(odplan.gateway.base_url, guest["guest_id"], guest["bind_sig"])
    assert bind_url in result.stderr
    assert "guest" in result.stderr.lower()
    # cpu limit 2 and memory limit 2Gi exceed the guest caps (1 vCPU, 1 GiB): errors in the plan.
    assert "cpu" in result.stdout.lower() and "memory" in result.stdout.lower()
    assert guest["api_key"] not in result.stdout + result.stderr


def test_a_dashboard_token_gets_no_guest_warning(odplan: Odplan, tmp_path: Path) -> None:
    manifest = write_app(tmp_path / "solo", GUEST_MANIFEST)

    result = odplan.invoke("plan", "-f", str(manifest), "--gateway", odplan.gateway.base_url)

    assert result.exit_code == 0, result.stderr
    assert "guest" not in result.stderr.lower()


def test_a_guest_token_from_od_api_key_still_gets_the_caps_note(
    odplan: Odplan, tmp_path: Path
) -> None:
    registered = httpx.post(f"{odplan.gateway.base_url}/v1/client-guests/register", json={})
    registered.raise_for_status()
    manifest = write_app(tmp_path / "solo", GUEST_MANIFEST)

    result = odplan.invoke(
        "plan", "-f", str(manifest), "--gateway", odplan.gateway.base_url,
        env={"OD_API_KEY": registered.json()["api_key"]},
    )  # fmt: skip

    assert result.exit_code == 1, result.stderr  # over the caps: an error, as apply would meet
    assert "not linked to an account" in result.stderr
    assert "1 vCPU" in result.stderr
