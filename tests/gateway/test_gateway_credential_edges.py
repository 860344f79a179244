"""Credential handling edges (mutation audit, round 6): auth-file permissions and fields, the
legacy-file migration, the lookup order of flag, env and file, and which gateway URLs a token
may travel to. Real files in a temporary HOME; nothing of our own is mocked.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from opendeploy_plan.gateway import (
    AuthFileUnsupported,
    EmptyApiKey,
    GatewayMismatch,
    InvalidGatewayUrl,
)
from opendeploy_plan.gateway._credentials import (
    LOCAL_BASE_URL,
    Credential,
    is_loopback,
    migrate_legacy_auth,
    normalize_gateway,
    read_auth_file,
    redact,
    resolve_settings,
    write_auth_file,
)

DASH = "od_k" + "D" * 43
GUEST = "od_a" + "G" * 43
GW = "https://gw.example/api"


def _write(path: Path, payload: object, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload), encoding="utf-8")
    path.chmod(mode)
    return path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the auth file --------------------------------------------------------------------------------


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o660, 0o700, 0o666])
def test_a_loose_auth_file_is_tightened_to_0600_with_a_warning(tmp_path: Path, loose: int) -> None:
    path = _write(tmp_path / "auth.json", {"api_key": DASH, "gateway": GW}, loose)
    warnings: list[str] = []
    saved = read_auth_file(path, warn=warnings.append)
    assert saved is not None and saved.api_key == DASH
    assert _mode(path) == 0o600
    assert len(warnings) == 1 and "tightened to 0600" in warnings[0]
    assert f"{loose:04o}" in warnings[0]


@pytest.mark.parametrize("tight", [0o600, 0o400])
def test_a_private_auth_file_is_left_as_it_is(tmp_path: Path, tight: int) -> None:
    path = _write(tmp_path / "auth.json", {"api_key": DASH}, tight)
    warnings: list[str] = []
    assert read_auth_file(path, warn=warnings.append) is not None
    assert _mode(path) == tight
    assert warnings == []


@pytest.mark.parametrize("key", ["", "   ", "\n\t"])
def test_a_blank_api_key_is_no_credential(tmp_path: Path, key: str) -> None:
    path = _write(tmp_path / "auth.json", {"api_key": key, "gateway": GW})
    assert read_auth_file(path, warn=lambda _m: None) is None


def test_an_api_key_is_read_without_surrounding_whitespace(tmp_path: Path) -> None:
    path = _write(tmp_path / "auth.json", {"api_key": f"  {DASH}\n"})
    saved = read_auth_file(path, warn=lambda _m: None)
    assert saved is not None and saved.api_key == DASH


def test_the_legacy_agent_id_stands_in_for_a_missing_guest_id(tmp_path: Path) -> None:
    path = _write(tmp_path / "auth.json", {"api_key": GUEST, "agent_id": "ag-1", "bind_sig": "s"})
    saved = read_auth_file(path, warn=lambda _m: None)
    assert saved is not None and saved.guest_id == "ag-1"
    both = _write(tmp_path / "b.json", {"api_key": GUEST, "agent_id": "ag-1", "guest_id": "g-2"})
    saved_both = read_auth_file(both, warn=lambda _m: None)
    assert saved_both is not None and saved_both.guest_id == "g-2"


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_any_version_but_1_is_unsupported(tmp_path: Path, version: object) -> None:
    path = _write(tmp_path / "auth.json", {"version": version, "api_key": DASH})
    with pytest.raises(AuthFileUnsupported):
        read_auth_file(path, warn=lambda _m: None)


def test_an_auth_file_without_a_version_is_version_1(tmp_path: Path) -> None:
    path = _write(tmp_path / "auth.json", {"api_key": DASH})
    assert read_auth_file(path, warn=lambda _m: None) is not None


def test_a_written_auth_file_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "auth.json"
    write_auth_file(path, api_key=GUEST, gateway=GW, guest_id="g-1", bind_sig="sig")
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert json.loads(path.read_text()) == {
        "version": 1,
        "api_key": GUEST,
        "gateway": GW,
        "guest_id": "g-1",
        "bind_sig": "sig",
    }


# --- the legacy ./.opendeploy/auth.json -----------------------------------------------------------


def _legacy(cwd: Path) -> Path:
    return _write(cwd / ".opendeploy" / "auth.json", {"api_key": DASH, "gateway": GW}, 0o644)


def test_the_legacy_file_moves_home_as_0600_and_its_empty_folder_goes(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "project"
    legacy = _legacy(cwd)
    moved = migrate_legacy_auth({"HOME": str(home)}, cwd, warn=lambda _m: None)
    assert moved == home / ".opendeploy" / "auth.json"
    assert moved.is_file() and _mode(moved) == 0o600
    assert _mode(moved.parent) == 0o700
    assert not legacy.exists() and not legacy.parent.exists()


def test_the_legacy_folder_stays_when_it_holds_more(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "project"
    _legacy(cwd)
    (cwd / ".opendeploy" / "notes.txt").write_text("mine")
    assert migrate_legacy_auth({"HOME": str(home)}, cwd, warn=lambda _m: None) is not None
    assert (cwd / ".opendeploy" / "notes.txt").is_file()


def test_the_legacy_file_never_replaces_a_home_file(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "project"
    legacy = _legacy(cwd)
    home_file = _write(home / ".opendeploy" / "auth.json", {"api_key": GUEST})
    assert migrate_legacy_auth({"HOME": str(home)}, cwd, warn=lambda _m: None) is None
    assert legacy.is_file()
    assert json.loads(home_file.read_text())["api_key"] == GUEST


def test_the_legacy_file_stays_when_an_auth_file_is_named(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "project"
    legacy = _legacy(cwd)
    env = {"HOME": str(home), "OPDEPLOY_AUTH_FILE": str(tmp_path / "elsewhere.json")}
    assert migrate_legacy_auth(env, cwd, warn=lambda _m: None) is None
    assert legacy.is_file()
    assert not (tmp_path / "elsewhere.json").exists()


# --- lookup order ---------------------------------------------------------------------------------


def test_the_flag_beats_od_gateway(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "OD_GATEWAY": "https://env.example/api", "OD_API_KEY": DASH}
    settings = resolve_settings("https://flag.example/api", env=env)
    assert settings.url == "https://flag.example/api"
    assert resolve_settings(None, env=env).url == "https://env.example/api"


@pytest.mark.parametrize("name", ["local", " local", "local\n"])
def test_local_is_recognised_with_stray_whitespace(tmp_path: Path, name: str) -> None:
    settings = resolve_settings(name, env={"HOME": str(tmp_path)})
    assert settings.local and settings.url == LOCAL_BASE_URL


@pytest.mark.parametrize("value", ["", "  ", "\t\n"])
def test_a_blank_od_api_key_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(EmptyApiKey):
        resolve_settings(None, env={"HOME": str(tmp_path), "OD_API_KEY": value})


def test_od_api_key_wins_over_the_file_and_is_stripped(tmp_path: Path) -> None:
    auth = _write(
        tmp_path / "auth.json", {"api_key": GUEST, "gateway": "https://other.example/api"}
    )
    env = {"HOME": str(tmp_path), "OPDEPLOY_AUTH_FILE": str(auth), "OD_API_KEY": f" {DASH} "}
    settings = resolve_settings(None, env=env)
    assert settings.credential is not None
    assert settings.credential.api_key == DASH and settings.credential.source == "env"
    # The file's gateway is not consulted either: the default gateway is used.
    assert settings.url == "https://dashboard.dev.opendeploy.dev/api"


def test_a_file_token_is_refused_for_another_gateway(tmp_path: Path) -> None:
    auth = _write(tmp_path / "auth.json", {"api_key": DASH, "gateway": GW})
    env = {"HOME": str(tmp_path), "OPDEPLOY_AUTH_FILE": str(auth)}
    assert resolve_settings(None, env=env).url == GW
    assert resolve_settings("HTTPS://GW.example/api/", env=env).url == GW
    with pytest.raises(GatewayMismatch):
        resolve_settings("https://gw.example:8443/api", env=env)


# --- gateway URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8787/api",
        "http://api.localhost/api",
        "http://127.0.0.1/api",
        "http://127.8.9.10:9/api",
        "http://[::1]:8787/api",
    ],
)
def test_plain_http_is_accepted_for_loopback_hosts(url: str) -> None:
    assert normalize_gateway(url).startswith("http://")


@pytest.mark.parametrize(
    "url",
    [
        "http://evil-localhost/api",
        "http://localhost.evil.example/api",
        "http://notlocalhost/api",
        "http://10.0.0.1/api",
        "http://[::2]/api",
    ],
)
def test_plain_http_is_refused_elsewhere(url: str) -> None:
    with pytest.raises(InvalidGatewayUrl, match="unencrypted"):
        normalize_gateway(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://gw.example/api?x=1",
        "https://gw.example/api#frag",
        "https://user@gw.example/api",
        "https://user:pw@gw.example/api",
        "ftp://gw.example/api",
        "https:///api",
    ],
)
def test_urls_with_extras_or_without_a_host_are_refused(url: str) -> None:
    with pytest.raises(InvalidGatewayUrl):
        normalize_gateway(url)


def test_a_gateway_url_is_normalised() -> None:
    assert normalize_gateway(" HTTPS://GW.Example:8443/api/ ") == "https://gw.example:8443/api"
    assert normalize_gateway("http://[::1]:8787/api") == "http://[::1]:8787/api"
    assert normalize_gateway("http://[::1]/api") == "http://[::1]/api"


def test_loopback_checks() -> None:
    assert is_loopback("localhost") and is_loopback("a.b.localhost") and is_loopback("[::1]")
    assert not is_loopback("xlocalhost") and not is_loopback("localhost.com")


# --- shown credentials ----------------------------------------------------------------------------


def test_a_redacted_key_keeps_only_the_prefix_and_kind() -> None:
    assert redact(DASH) == "od_k***"
    assert redact(GUEST) == "od_a***"
    assert redact("plainsecretvalue") == "***"


def test_the_kind_of_a_credential_follows_its_token() -> None:
    assert Credential(DASH, GW, "env").kind == "dashboard"
    assert Credential(GUEST, GW, "env").kind == "guest"
    assert Credential("od_x" + "Q" * 43, GW, "env").kind == "unknown"
    assert Credential(GUEST, GW, "env").bind_url is None
    bound = Credential(GUEST, GW, "file", guest_id="g1", bind_sig="s1")
    assert bound.bind_url == "https://gw.example/guest/g1?h=s1"


def test_a_credential_repr_never_shows_the_key_or_bind_sig() -> None:
    shown = repr(Credential(GUEST, GW, "file", guest_id="g1", bind_sig="sig-value-x"))
    assert GUEST not in shown and "sig-value-x" not in shown


def test_the_home_variable_places_the_default_auth_file(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    settings = resolve_settings(None, env=env, cwd=tmp_path)
    assert settings.auth_path == tmp_path / ".opendeploy" / "auth.json"
    assert settings.credential is None
