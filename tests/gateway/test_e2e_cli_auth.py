"""`odplan login`, `whoami`, `logout` end to end against the local gateway over real HTTP."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from opendeploy_plan.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def run(home: Path, *args: str, input: str | None = None, **env: str | None) -> Result:
    base: dict[str, str | None] = {
        "HOME": str(home),
        "OPDEPLOY_LOG_DIR": str(home / "logs"),
        "OPDEPLOY_AUTH_FILE": None,
        "OD_API_KEY": None,
        "OD_GATEWAY": None,
        "OPDEPLOY_ALLOW_CREDENTIAL_INIT": None,
    }
    base.update(env)
    return CliRunner().invoke(main, list(args), env=base, input=input, catch_exceptions=False)


def auth_file(home: Path) -> Path:
    return home / ".opendeploy" / "auth.json"


def test_guest_login_needs_consent_and_writes_nothing_without_it(
    live_gateway: Any, home: Path
) -> None:
    result = run(home, "login", "--guest", "--gateway", live_gateway.base_url)
    assert result.exit_code == 1
    assert "consent" in result.stderr
    assert not auth_file(home).exists()
    assert live_gateway.emulator.store is not None


def test_guest_login_whoami_bind_and_logout(live_gateway: Any, home: Path) -> None:
    login = run(
        home,
        "login",
        "--guest",
        "--gateway",
        live_gateway.base_url,
        OPDEPLOY_ALLOW_CREDENTIAL_INIT="1",
    )
    assert login.exit_code == 0, login.stderr
    saved = json.loads(auth_file(home).read_text())
    assert saved["version"] == 1 and saved["api_key"].startswith("od_a")
    assert saved["gateway"] == live_gateway.base_url
    assert saved["guest_id"] and saved["bind_sig"]
    assert stat.S_IMODE(auth_file(home).stat().st_mode) == 0o600
    assert stat.S_IMODE(auth_file(home).parent.stat().st_mode) == 0o700
    assert saved["api_key"] not in login.stdout + login.stderr
    assert "od_a***" in login.stdout

    who = run(home, "whoami", "--json")
    assert who.exit_code == 0, who.stderr
    info = json.loads(who.stdout)
    assert info["state"] == "guest pending"
    assert info["key"] == "od_a***"
    assert info["gateway"] == live_gateway.base_url
    expected_bind = f"{live_gateway.root_url}/guest/{saved['guest_id']}?h={saved['bind_sig']}"
    assert info["bind_url"] == expected_bind

    live_gateway.emulator.bind_guest(saved["guest_id"])
    bound = run(home, "whoami")
    assert bound.exit_code == 0
    assert "linked to an account" in bound.stdout and "Bind URL" not in bound.stdout

    refused = run(home, "logout")
    assert refused.exit_code == 1 and auth_file(home).exists()
    gone = run(home, "logout", "--yes")
    assert gone.exit_code == 0 and not auth_file(home).exists()

    log_lines = [
        json.loads(line)
        for path in (home / "logs").iterdir()
        for line in path.read_text().splitlines()
    ]
    steps = [line["step"] for line in log_lines]
    assert "auth.register" in steps and "auth.resolve" in steps and "auth.logout" in steps


def test_existing_credential_is_never_overwritten_without_force(
    live_gateway: Any, home: Path
) -> None:
    first = run(
        home,
        "login",
        "--token",
        "-",
        "--gateway",
        live_gateway.base_url,
        input=live_gateway.dashboard_token + "\n",
    )
    assert first.exit_code == 0, first.stderr
    before = auth_file(home).read_text()
    again = run(home, "login", "--guest", "--yes", "--gateway", live_gateway.base_url)
    assert again.exit_code == 1
    assert "--force" in again.stderr
    assert auth_file(home).read_text() == before


def test_login_and_logout_say_that_od_api_key_overrides_the_saved_credential(
    live_gateway: Any, home: Path
) -> None:
    url = live_gateway.base_url
    token = live_gateway.dashboard_token
    login = run(
        home, "login", "--token", "-", "--gateway", url, input=token + "\n", OD_API_KEY=token
    )
    assert login.exit_code == 0, login.stderr
    assert "OD_API_KEY is set: it overrides the saved credential until you unset it" in login.stderr
    logout = run(home, "logout", "--yes", "--gateway", url, OD_API_KEY=token)
    assert logout.exit_code == 0, logout.stderr
    assert "OD_API_KEY is set in the environment; logout cannot remove it" in logout.stderr
    assert not auth_file(home).exists()
    assert token not in login.stdout + login.stderr + logout.stdout + logout.stderr

    quiet = run(home, "login", "--token", "-", "--gateway", url, input=token + "\n")
    assert quiet.exit_code == 0 and "OD_API_KEY" not in quiet.stderr


def test_token_login_validates_before_saving(live_gateway: Any, home: Path) -> None:
    bogus = "od_k" + "B" * 43
    rejected = run(
        home, "login", "--token", "-", "--gateway", live_gateway.base_url, input=bogus + "\n"
    )
    assert rejected.exit_code == 1
    assert "rejected" in rejected.stderr
    assert not auth_file(home).exists()
    malformed = run(home, "login", "--token", "not-a-token", "--gateway", live_gateway.base_url)
    assert malformed.exit_code == 1 and "not-a-token" not in malformed.stderr
    good = run(
        home,
        "login",
        "--token",
        "-",
        "--gateway",
        live_gateway.base_url,
        input=live_gateway.dashboard_token + "\n",
    )
    assert good.exit_code == 0
    who = run(home, "whoami", "--json")
    assert json.loads(who.stdout)["state"] == "dashboard"


def test_replay_without_api_key_gives_recovery_advice_and_writes_nothing(
    live_gateway: Any, home: Path
) -> None:
    other_home = home.parent / "other-home"
    first = run(other_home, "login", "--guest", "--yes", "--gateway", live_gateway.base_url)
    assert first.exit_code == 0
    replay = run(home, "login", "--guest", "--yes", "--gateway", live_gateway.base_url)
    assert replay.exit_code == 1
    assert "only shown once" in replay.stderr and "24 h" in replay.stderr
    assert not auth_file(home).exists()


def test_register_rate_limit_prints_the_wait(live_gateway: Any, home: Path) -> None:
    for index in range(5):
        run(
            home.parent / f"h{index}",
            "login",
            "--guest",
            "--yes",
            "--gateway",
            live_gateway.base_url,
        )
    limited = run(home, "login", "--guest", "--yes", "--gateway", live_gateway.base_url)
    assert limited.exit_code == 1
    assert "Wait" in limited.stderr and "dashboard token" in limited.stderr
    assert not auth_file(home).exists()


def test_saved_token_is_not_sent_to_another_gateway(live_gateway: Any, home: Path) -> None:
    run(
        home,
        "login",
        "--token",
        "-",
        "--gateway",
        live_gateway.base_url,
        input=live_gateway.dashboard_token + "\n",
    )
    other = run(home, "whoami", "--gateway", "https://elsewhere.example/api")
    assert other.exit_code == 1
    assert "belongs to" in other.stderr and "OD_API_KEY" in other.stderr


def test_rejected_credential_is_reported_and_kept(live_gateway: Any, home: Path) -> None:
    auth_file(home).parent.mkdir(parents=True)
    auth_file(home).write_text(
        json.dumps({"version": 1, "api_key": "od_k" + "D" * 43, "gateway": live_gateway.base_url})
    )
    auth_file(home).chmod(0o600)
    who = run(home, "whoami")
    assert who.exit_code == 1
    assert "rejected" in who.stderr
    assert auth_file(home).exists(), "a 401 never deletes the credential"


def test_od_api_key_is_used_and_never_written(live_gateway: Any, home: Path) -> None:
    who = run(
        home,
        "whoami",
        "--json",
        OD_API_KEY=live_gateway.dashboard_token,
        OD_GATEWAY=live_gateway.base_url,
    )
    assert who.exit_code == 0, who.stderr
    assert json.loads(who.stdout)["source"] == "OD_API_KEY"
    assert not auth_file(home).exists()


def test_whoami_without_credential_says_how_to_get_one(home: Path) -> None:
    who = run(home, "whoami")
    assert who.exit_code == 1
    assert "odplan login" in who.stderr


def test_lost_register_answer_is_not_retried_and_writes_nothing(
    live_gateway: Any, home: Path
) -> None:
    from tests.gateway.helpers import admin

    admin(
        live_gateway,
        "POST",
        "faults",
        {"kind": "lost_response", "method": "POST", "route": "*/client-guests/register"},
    )
    lost = run(home, "login", "--guest", "--yes", "--gateway", live_gateway.base_url)
    assert lost.exit_code == 1
    assert "outcome unknown" in lost.stderr and "dashboard token" in lost.stderr
    assert not auth_file(home).exists()
    counts = admin(live_gateway, "GET", "requests")
    assert "'POST /api/v1/client-guests/register': 1" in str(counts), counts
