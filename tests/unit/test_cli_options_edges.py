"""The small promises of `cli/options.py` every command leans on: which gateway counts as the
local one, what the first line names, what the folder link remembers, where the audit log goes,
when stderr is coloured, when a prompt may be shown and what it defaults to, what a guest is
told before a credential is created, and how an error ends (message, hint, exit 1)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from opendeploy_plan import platform
from opendeploy_plan.cli import options
from opendeploy_plan.cli.options import (
    GatewayChoice,
    consent_from_flags,
    gateway_errors,
    guest_explanation,
    styled,
    warn,
    yes_option,
)
from opendeploy_plan.engine.link import LINK_FILE
from opendeploy_plan.gateway import GatewaySettings, GatewayUnreachable

URL = "https://gw.example/api"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def _settings(*, local: bool, tmp_path: Path) -> GatewaySettings:
    return GatewaySettings(
        url="http://127.0.0.1:1/api" if local else URL,
        local=local,
        auth_path=tmp_path / "auth.json",
        credential=None,
    )


# -- which gateway is the local one ---------------------------------------------------------


def test_local_is_recognised_with_surrounding_blanks_and_only_exactly(tmp_path: Path) -> None:
    choice = GatewayChoice(folder=tmp_path)
    assert choice.is_local({"OD_GATEWAY": " local\n"})
    assert GatewayChoice(gateway="  local ", folder=tmp_path).is_local({})
    assert not choice.is_local({"OD_GATEWAY": "localhost"})
    assert not choice.is_local({"OD_GATEWAY": URL})


# -- the first line names the gateway -------------------------------------------------------


def test_the_first_line_names_local_or_the_url_and_the_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    env = {"HOME": str(tmp_path)}
    GatewayChoice(gateway=URL, folder=tmp_path).settings(env)
    assert capsys.readouterr().err.strip() == f"Gateway: {URL} (--gateway)"
    GatewayChoice(gateway="local", folder=tmp_path).settings(env)
    assert capsys.readouterr().err.strip() == "Gateway: local (--gateway)"
    GatewayChoice(gateway=URL, folder=tmp_path).settings(env, announce=False)
    assert capsys.readouterr().err == ""


# -- the folder link -------------------------------------------------------------------------


@pytest.mark.parametrize(("local", "remembered"), [(True, "local"), (False, URL)])
def test_remember_links_the_folder_to_local_or_the_url(
    tmp_path: Path, local: bool, remembered: str
) -> None:
    choice = GatewayChoice(folder=tmp_path)
    choice.remember(_settings(local=local, tmp_path=tmp_path))
    data = json.loads((tmp_path / LINK_FILE).read_text(encoding="utf-8"))
    assert data["gateway"] == remembered
    assert choice.linked() == remembered


# -- the audit log ---------------------------------------------------------------------------


def test_the_audit_log_of_the_local_gateway_is_kept_apart(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    local = GatewayChoice(gateway="local", folder=tmp_path).audit_log(env)
    remote = GatewayChoice(gateway=URL, folder=tmp_path).audit_log(env)
    assert local.directory == tmp_path / ".opendeploy" / "local" / "logs"
    assert remote.directory == tmp_path / ".opendeploy" / "logs"


# -- --yes -----------------------------------------------------------------------------------


def test_yes_is_off_unless_given() -> None:
    @click.command()
    @yes_option
    def cmd(yes: bool) -> None:
        click.echo(f"yes={yes}")

    runner = CliRunner()
    assert runner.invoke(cmd, []).output.strip() == "yes=False"
    assert runner.invoke(cmd, ["-y"]).output.strip() == "yes=True"
    assert runner.invoke(cmd, ["--yes"]).output.strip() == "yes=True"


# -- colour on stderr ------------------------------------------------------------------------


def test_styled_colours_only_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr("sys.stderr", _Tty())
    coloured = styled("hello", fg="red")
    assert coloured != "hello" and "hello" in coloured and "\x1b[" in coloured
    monkeypatch.setattr("sys.stderr", _Pipe())
    assert styled("hello", fg="red") == "hello"
    monkeypatch.setattr("sys.stderr", _Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert styled("hello", fg="red") == "hello"


def test_a_warning_goes_to_stderr_with_its_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    warn("the sky is low")
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == "warning: the sky is low"


# -- consent ---------------------------------------------------------------------------------


def test_no_prompt_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", _Pipe())
    consent = consent_from_flags(False, {}, explain="why")
    assert consent.prompt is None
    assert not consent.granted("Create a guest credential?")
    assert consent_from_flags(True, {}).granted("Create a guest credential?")


def test_the_prompt_explains_first_and_defaults_to_no(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", _Tty())
    asked: dict[str, Any] = {}

    def confirm(question: str, default: bool = True, err: bool = False) -> bool:
        asked.update(question=question, default=default, err=err)
        return default

    monkeypatch.setattr(options.click, "confirm", confirm)
    consent = consent_from_flags(False, {}, explain="A guest credential is a token.")
    assert consent.prompt is not None
    assert consent.granted("Create one?") is False
    assert asked == {"question": "Create one?", "default": False, "err": True}
    assert "A guest credential is a token." in capsys.readouterr().err


def test_the_prompt_says_nothing_extra_without_an_explanation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", _Tty())
    monkeypatch.setattr(options.click, "confirm", lambda *a, **k: True)
    assert consent_from_flags(False, {}).granted("Create one?") is True
    assert capsys.readouterr().err == ""


# -- what a guest is told --------------------------------------------------------------------


def test_the_guest_explanation_states_the_documented_caps(tmp_path: Path) -> None:
    text = guest_explanation(tmp_path / "auth.json")
    hours = platform.GUEST_IDLE_GC_SECONDS // 3600
    memory = platform.GUEST_MEMORY_LIMIT_BYTES // 2**30
    cpu = platform.GUEST_CPU_LIMIT_MILLICORES / 1000
    assert (hours, memory, cpu) == (6, 1, 1.0)
    flat = " ".join(text.split())
    assert "within 6 hours" in flat
    assert "1 CPU, 1 GiB memory" in flat
    assert "1 replica" in flat
    assert "1 service" in flat
    assert str(tmp_path / "auth.json") in flat
    assert "(mode 0600)" in flat


# -- how an error ends -----------------------------------------------------------------------


def test_an_unreachable_gateway_ends_with_the_local_hint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    with pytest.raises(SystemExit) as ended, gateway_errors():
        raise GatewayUnreachable(
            "could not reach https://gw.example/api",
            method="GET",
            path="/projects",
            request_sent=False,
        )
    assert ended.value.code == 1
    err = capsys.readouterr().err
    assert "error: could not reach https://gw.example/api" in err
    assert "hint: Nothing answers at that address" in err
    assert "--gateway local" in err


def test_a_foreign_exception_is_not_swallowed() -> None:
    with pytest.raises(KeyError), gateway_errors():
        raise KeyError("bug")
