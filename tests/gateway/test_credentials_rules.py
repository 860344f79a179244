"""The credential store's rules one by one: loopback names, URL canonical forms, what an auth
file may hold and what each resolution branch returns in full (issue 19: pinned so that a
one-line change in gateway/_credentials.py fails a test)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from opendeploy_plan import platform
from opendeploy_plan.gateway import (
    LOCAL_BASE_URL,
    AuthFileInvalid,
    AuthFileUnsupported,
    Credential,
    GatewayMismatch,
    GatewaySettings,
    InvalidGatewayUrl,
    delete_auth_file,
    is_loopback,
    migrate_legacy_auth,
    normalize_gateway,
    read_auth_file,
    resolve_settings,
)
from opendeploy_plan.gateway._credentials import home_dir

KEY = "od_a" + "C" * 43
SITE = "https://gw.example/api"


def _save(path: Path, contents: object, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(contents))
    path.chmod(mode)
    return path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class Warnings:
    """A `warn` callback that keeps what it was told (always truthy, unlike an empty list)."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, message: str) -> None:
        assert isinstance(message, str) and message
        self.messages.append(message)


# --- loopback -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["localhost", "app.localhost", "127.0.0.1", "127.8.9.1", "::1", "[::1]"]
)
def test_loopback_names_and_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host", ["example.com", "localhost.example.com", "mylocalhost", "10.0.0.1", "[2001:db8::1]"]
)
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


# --- gateway URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("  HTTPS://GW.Example/api/  ", "https://gw.example/api"),
        ("https://gw.example:8443/api///", "https://gw.example:8443/api"),
        ("http://[::1]:8080/api/", "http://[::1]:8080/api"),
        ("http://[::1]/api", "http://[::1]/api"),
        ("http://localhost:9/api", "http://localhost:9/api"),
        ("http://odplan.local/api/", LOCAL_BASE_URL),
        ("https://gw.example/X/", "https://gw.example/X"),
    ],
)
def test_canonical_forms(url: str, canonical: str) -> None:
    assert normalize_gateway(url) == canonical


@pytest.mark.parametrize(
    "url",
    [
        "https://gw.example:99999/api",  # port out of range
        "https:///api",  # no host
        "ftp://gw.example/api",
        "https://user@gw.example/api",
        "https://user:pw@gw.example/api",
        "https://gw.example/api?x=1",
        "https://gw.example/api#top",
    ],
)
def test_invalid_urls_are_refused_with_a_message(url: str) -> None:
    with pytest.raises(InvalidGatewayUrl) as caught:
        normalize_gateway(url)
    assert "gateway URL" in str(caught.value)


def test_plain_http_elsewhere_is_refused_with_a_hint() -> None:
    with pytest.raises(InvalidGatewayUrl) as caught:
        normalize_gateway("http://gw.example/api")
    assert "plain http to gw.example" in str(caught.value)
    assert caught.value.hint == "Use https://, or http:// only for 127.0.0.1 / localhost."


# --- the auth file --------------------------------------------------------------------------


def test_an_empty_file_is_no_credential_but_one_byte_of_junk_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("")
    empty.chmod(0o600)
    assert read_auth_file(empty, warn=Warnings()) is None
    junk = tmp_path / "junk.json"
    junk.write_text("x")
    junk.chmod(0o600)
    with pytest.raises(AuthFileInvalid):
        read_auth_file(junk, warn=Warnings())


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_modes_are_left_alone_without_a_warning(tmp_path: Path, mode: int) -> None:
    path = _save(tmp_path / "auth.json", {"version": 1, "api_key": KEY}, mode)
    warnings = Warnings()
    assert read_auth_file(path, warn=warnings) is not None
    assert warnings.messages == []
    assert _mode(path) == mode


def test_undecodable_bytes_are_invalid_without_a_line_number(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    path.write_bytes(b"\xff\xfe{}")
    path.chmod(0o600)
    with pytest.raises(AuthFileInvalid) as caught:
        read_auth_file(path, warn=Warnings())
    assert str(caught.value) == f"{path} is not valid JSON"


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    path.write_text('{\n"api_key": }')
    path.chmod(0o600)
    with pytest.raises(AuthFileInvalid) as caught:
        read_auth_file(path, warn=Warnings())
    assert str(caught.value) == f"{path} is not valid JSON (line 2)"


def test_a_json_list_is_not_an_auth_file(tmp_path: Path) -> None:
    path = _save(tmp_path / "auth.json", [KEY])
    with pytest.raises(AuthFileInvalid) as caught:
        read_auth_file(path, warn=Warnings())
    assert "must hold a JSON object" in str(caught.value)


def test_a_file_without_a_version_is_version_1(tmp_path: Path) -> None:
    path = _save(tmp_path / "auth.json", {"api_key": KEY})
    saved = read_auth_file(path, warn=Warnings())
    assert saved is not None and saved.api_key == KEY


def test_an_unknown_version_is_named(tmp_path: Path) -> None:
    path = _save(tmp_path / "auth.json", {"version": 2, "api_key": KEY})
    with pytest.raises(AuthFileUnsupported) as caught:
        read_auth_file(path, warn=Warnings())
    assert "has version 2; odplan understands version 1" in str(caught.value)


def test_every_field_is_read_and_only_unknown_keys_are_extra(tmp_path: Path) -> None:
    contents = {
        "version": 1,
        "api_key": f"  {KEY} ",
        "gateway": SITE,
        "guest_id": "g-1",
        "agent_id": "a-1",
        "bind_sig": "sig",
        "note": {"kept": True},
    }
    path = _save(tmp_path / "auth.json", contents)
    saved = read_auth_file(path, warn=Warnings())
    assert saved is not None
    assert (saved.path, saved.api_key, saved.gateway) == (path, KEY, SITE)
    assert (saved.guest_id, saved.bind_sig) == ("g-1", "sig")
    assert saved.extra == {"note": {"kept": True}}


@pytest.mark.parametrize("value", ["", 7, None, ["g"]])
def test_a_field_that_is_not_a_non_empty_string_counts_as_absent(
    tmp_path: Path, value: object
) -> None:
    path = _save(tmp_path / "auth.json", {"api_key": KEY, "gateway": value, "guest_id": value})
    saved = read_auth_file(path, warn=Warnings())
    assert saved is not None and saved.gateway is None and saved.guest_id is None


def test_delete_says_whether_it_removed_a_file(tmp_path: Path) -> None:
    path = _save(tmp_path / "auth.json", {"api_key": KEY})
    assert delete_auth_file(path) is True
    assert not path.exists()
    assert delete_auth_file(path) is False


def test_an_empty_home_variable_means_the_real_home() -> None:
    assert home_dir({"HOME": ""}) == Path.home()
    assert home_dir({"HOME": "/srv/h"}) == Path("/srv/h")


def test_a_migrated_file_is_0600_and_announced(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "home")}
    project = tmp_path / "project"
    _save(project / ".opendeploy" / "auth.json", {"api_key": KEY}, 0o644)
    (project / ".opendeploy" / "keep.txt").write_text("other file")
    warnings = Warnings()
    target = migrate_legacy_auth(env, project, warn=warnings)
    assert target is not None and _mode(target) == 0o600
    assert len(warnings.messages) == 1 and "migrated auth" in warnings.messages[0]
    assert (project / ".opendeploy" / "keep.txt").exists()  # a non-empty folder stays


# --- resolution, branch by branch -----------------------------------------------------------


def _sentinel_local_gateway() -> object:
    return object()


def test_local_resolution_returns_the_saved_local_credential_in_full(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "home")}
    local = tmp_path / "home" / ".opendeploy" / "local" / "auth.json"
    _save(local, {"api_key": KEY, "guest_id": "g-9", "bind_sig": "s-9"}, 0o644)
    marker = _sentinel_local_gateway()
    warnings = Warnings()
    settings = resolve_settings("local", env=env, warn=warnings, local_gateway=marker)  # type: ignore[arg-type]
    assert (settings.url, settings.local, settings.auth_path) == (LOCAL_BASE_URL, True, local)
    assert settings.local_gateway is marker
    assert settings.credential == Credential(
        api_key=KEY,
        gateway=LOCAL_BASE_URL,
        source="local",
        path=local,
        guest_id="g-9",
        bind_sig="s-9",
    )
    assert settings.credential.api_key == KEY and settings.credential.bind_sig == "s-9"
    assert len(warnings.messages) == 1 and "tightened to 0600" in warnings.messages[0]


def test_local_resolution_without_a_saved_credential(tmp_path: Path) -> None:
    settings = resolve_settings("local", env={"HOME": str(tmp_path)})
    assert settings.local is True and settings.credential is None


def test_an_environment_key_resolves_to_a_remote_env_credential(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "OD_API_KEY": f" {KEY} "}
    settings = resolve_settings(SITE, env=env)
    assert (settings.url, settings.local) == (SITE, False)
    assert settings.auth_path == tmp_path / ".opendeploy" / "auth.json"
    assert settings.credential is not None
    assert (settings.credential.api_key, settings.credential.gateway) == (KEY, SITE)
    assert settings.credential.source == "env"


def test_without_any_credential_the_settings_say_so(tmp_path: Path) -> None:
    settings = resolve_settings(env={"HOME": str(tmp_path)})
    assert settings == GatewaySettings(
        normalize_gateway(platform.DEFAULT_GATEWAY),
        False,
        tmp_path / ".opendeploy" / "auth.json",
        None,
    )
    assert settings.local is False and settings.auth_path is not None


def test_a_saved_file_resolves_to_a_file_credential_in_full(tmp_path: Path) -> None:
    path = _save(tmp_path / "elsewhere.json", {"api_key": KEY, "gateway": SITE, "guest_id": "g"})
    settings = resolve_settings(env={"HOME": str(tmp_path / "home")}, auth_file=path)
    assert (settings.url, settings.local, settings.auth_path) == (SITE, False, path)
    credential = settings.credential
    assert credential is not None
    assert (credential.source, credential.path, credential.gateway) == ("file", path, SITE)
    assert credential.guest_id == "g"


def test_a_mismatch_explains_the_rule_and_the_ways_out(tmp_path: Path) -> None:
    path = _save(tmp_path / "auth.json", {"api_key": KEY, "gateway": SITE})
    with pytest.raises(GatewayMismatch) as caught:
        resolve_settings("https://other.example/api", env={"HOME": str(tmp_path)}, auth_file=path)
    message, hint = str(caught.value), caught.value.hint or ""
    assert message.endswith("odplan sends a saved token only to the gateway it was saved for")
    assert hint.startswith("Set OD_API_KEY to a token for https://other.example/api")
    assert hint.endswith(
        "OPDEPLOY_AUTH_FILE pointing at another file, or drop --gateway / OD_GATEWAY."
    )


def test_without_an_env_mapping_the_process_environment_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OD_API_KEY", KEY)
    monkeypatch.delenv("OD_GATEWAY", raising=False)
    settings = resolve_settings()
    assert settings.credential is not None and settings.credential.source == "env"
    assert os.environ["OD_API_KEY"] == KEY


def test_settings_can_be_given_a_credential_and_a_local_gateway(tmp_path: Path) -> None:
    settings = resolve_settings(env={"HOME": str(tmp_path)})
    credential = Credential(KEY, settings.url, "env")
    with_key = settings.with_credential(credential)
    assert with_key.credential is credential and with_key.url == settings.url
    marker = _sentinel_local_gateway()
    with_local = settings.with_local_gateway(marker)  # type: ignore[arg-type]
    assert with_local.local_gateway is marker and with_local.credential is None
