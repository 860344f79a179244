"""auth.json exactly as the skill keeps it, and which gateway a saved token may be sent to."""

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
    GatewayMismatch,
    InvalidGatewayUrl,
    migrate_legacy_auth,
    normalize_gateway,
    read_auth_file,
    redact,
    resolve_settings,
    write_auth_file,
)

KEY = "od_a" + "C" * 43
OTHER = "https://other.example/api"


def save(path: Path, contents: dict[str, object], mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(contents))
    path.chmod(mode)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home")}


def home_auth(env: dict[str, str]) -> Path:
    return Path(env["HOME"]) / ".opendeploy" / "auth.json"


def test_write_is_private_atomic_and_in_the_skill_shape(tmp_path: Path) -> None:
    path = tmp_path / "h" / ".opendeploy" / "auth.json"
    write_auth_file(path, api_key=KEY, gateway=OTHER, guest_id="g1", bind_sig="ab12")
    assert json.loads(path.read_text()) == {
        "version": 1,
        "api_key": KEY,
        "gateway": OTHER,
        "guest_id": "g1",
        "bind_sig": "ab12",
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert os.listdir(path.parent) == ["auth.json"], "no temporary file left behind"


def test_precedence_flag_then_env_then_file_then_default(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert resolve_settings(env=env, cwd=tmp_path).url == platform.DEFAULT_GATEWAY
    save(home_auth(env), {"version": 1, "api_key": KEY, "gateway": OTHER})
    assert resolve_settings(env=env, cwd=tmp_path).url == OTHER
    env["OD_API_KEY"] = "od_k" + "E" * 43
    env["OD_GATEWAY"] = "https://env.example/api"
    assert resolve_settings(env=env, cwd=tmp_path).url == "https://env.example/api"
    flagged = resolve_settings("https://flag.example/api/", env=env, cwd=tmp_path)
    assert flagged.url == "https://flag.example/api"


def test_a_saved_token_is_only_offered_to_its_own_gateway(
    env: dict[str, str], tmp_path: Path
) -> None:
    save(home_auth(env), {"version": 1, "api_key": KEY, "gateway": OTHER})
    settings = resolve_settings(OTHER + "/", env=env, cwd=tmp_path)
    assert settings.credential is not None and settings.credential.api_key == KEY
    with pytest.raises(GatewayMismatch) as caught:
        resolve_settings("https://elsewhere.example/api", env=env, cwd=tmp_path)
    assert "OD_API_KEY" in caught.value.hint and "odplan login" in caught.value.hint
    assert KEY not in str(caught.value) + caught.value.hint


def test_a_file_without_gateway_belongs_to_the_default(env: dict[str, str], tmp_path: Path) -> None:
    save(home_auth(env), {"version": 1, "api_key": KEY})
    assert resolve_settings(env=env, cwd=tmp_path).credential is not None
    with pytest.raises(GatewayMismatch):
        resolve_settings(OTHER, env=env, cwd=tmp_path)


def test_od_api_key_overrides_the_file_and_is_never_written(
    env: dict[str, str], tmp_path: Path
) -> None:
    env["OD_API_KEY"] = "od_k" + "E" * 43
    settings = resolve_settings(env=env, cwd=tmp_path)
    assert settings.credential is not None and settings.credential.source == "env"
    assert not home_auth(env).exists()


def test_version_other_than_1_aborts_without_rewriting(env: dict[str, str], tmp_path: Path) -> None:
    save(home_auth(env), {"version": 2, "api_key": KEY})
    before = home_auth(env).read_text()
    with pytest.raises(AuthFileUnsupported):
        resolve_settings(env=env, cwd=tmp_path)
    assert home_auth(env).read_text() == before


def test_broken_json_is_reported_without_quoting_the_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    home_auth(env).parent.mkdir(parents=True)
    home_auth(env).write_text('{"api_key": "' + KEY)
    with pytest.raises(AuthFileInvalid) as caught:
        resolve_settings(env=env, cwd=tmp_path)
    assert KEY not in str(caught.value)


def test_loose_permissions_are_tightened_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    save(path, {"version": 1, "api_key": KEY}, mode=0o644)
    warnings: list[str] = []
    saved = read_auth_file(path, warn=warnings.append)
    assert saved is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert warnings and "0644" in warnings[0]


def test_agent_id_is_tolerated_as_guest_id(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    save(path, {"version": 1, "api_key": KEY, "agent_id": "g-legacy", "bind_sig": "ff"})
    saved = read_auth_file(path, warn=lambda _m: None)
    assert saved is not None and saved.guest_id == "g-legacy"


def test_empty_api_key_counts_as_no_credential(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    save(path, {"version": 1, "api_key": ""})
    assert read_auth_file(path, warn=lambda _m: None) is None


def test_legacy_project_auth_is_migrated_home(env: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "project"
    save(project / ".opendeploy" / "auth.json", {"version": 1, "api_key": KEY})
    settings = resolve_settings(env=env, cwd=project)
    assert settings.credential is not None and settings.credential.api_key == KEY
    assert home_auth(env).exists()
    assert stat.S_IMODE(home_auth(env).stat().st_mode) == 0o600
    assert not (project / ".opendeploy").exists(), "the emptied legacy directory is removed"


def test_legacy_is_left_alone_when_home_exists_or_override_set(
    env: dict[str, str], tmp_path: Path
) -> None:
    project = tmp_path / "project"
    legacy = project / ".opendeploy" / "auth.json"
    save(legacy, {"version": 1, "api_key": KEY})
    (project / ".opendeploy" / "project_id.txt").write_text("p1")
    override = {**env, "OPDEPLOY_AUTH_FILE": str(tmp_path / "custom.json")}
    assert migrate_legacy_auth(override, project, warn=lambda _m: None) is None
    save(home_auth(env), {"version": 1, "api_key": "od_k" + "H" * 43})
    assert migrate_legacy_auth(env, project, warn=lambda _m: None) is None
    assert legacy.exists()


def test_opdeploy_auth_file_is_honoured(env: dict[str, str], tmp_path: Path) -> None:
    custom = tmp_path / "custom.json"
    save(custom, {"version": 1, "api_key": KEY})
    settings = resolve_settings(env={**env, "OPDEPLOY_AUTH_FILE": str(custom)}, cwd=tmp_path)
    assert settings.auth_path == custom and settings.credential is not None


def test_local_mode_never_reads_the_real_auth_file(env: dict[str, str], tmp_path: Path) -> None:
    home_auth(env).parent.mkdir(parents=True)
    home_auth(env).write_text("this would not even parse")
    settings = resolve_settings("local", env=env, cwd=tmp_path)
    assert settings.local and settings.url == LOCAL_BASE_URL
    assert settings.auth_path == Path(env["HOME"]) / ".opendeploy" / "local" / "auth.json"
    assert settings.credential is None


def test_plain_http_is_refused_except_for_loopback() -> None:
    assert normalize_gateway("http://127.0.0.1:8787/api/") == "http://127.0.0.1:8787/api"
    assert normalize_gateway("HTTPS://Gw.Example/api") == "https://gw.example/api"
    with pytest.raises(InvalidGatewayUrl):
        normalize_gateway("http://gw.example/api")
    with pytest.raises(InvalidGatewayUrl):
        normalize_gateway("ftp://gw.example/api")
    with pytest.raises(InvalidGatewayUrl):
        normalize_gateway("https://user:pass" + "@gw.example/api")


def test_redaction_keeps_only_the_kind_prefix() -> None:
    assert redact(KEY) == "od_a***"
    assert redact("garbage-token") == "***"


def test_credential_repr_hides_key_and_bind_sig(env: dict[str, str], tmp_path: Path) -> None:
    save(home_auth(env), {"version": 1, "api_key": KEY, "guest_id": "g1", "bind_sig": "sig-canary"})
    settings = resolve_settings(env=env, cwd=tmp_path)
    assert KEY not in repr(settings) and "sig-canary" not in repr(settings)
    assert settings.credential is not None
    assert (
        settings.credential.bind_url == "https://dashboard.dev.opendeploy.dev/guest/g1?h=sig-canary"
    )
