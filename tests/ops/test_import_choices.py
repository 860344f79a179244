"""`odplan import` chooses per variable: a value that does not look secret (by name and by
shape) stays a literal, the rest become `${{ secrets.NAME }}`, and the command says which
(issue 16 item 9); `-o` anywhere gives a manifest or a clear error (issue 17 item 10)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from opendeploy_plan.ops.adopt import secret_reason
from tests.ops.helpers import SECRET_CANARY, Gateway, Skill, odplan, write_app

OPAQUE = "a8Fk29dLq0Zx7Pw1Qr5T"
CALLBACK = "https://hook:pw-9f8e@hooks.example.com/in"


def skill_deploy(gateway: Gateway, app: Path) -> None:
    skill = Skill(gateway)
    try:
        skill.first_deploy(
            write_app(app),
            extra_env={
                "LOG_LEVEL": "info",
                "PUBLIC_URL": "https://shop.example.com/",
                "SENTRY_DSN": "https://key@o1.ingest.sentry.io/2",
                "OPAQUE": OPAQUE,
                "CALLBACK": CALLBACK,
            },
        )
    finally:
        skill.close()


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("PORT", "8000", None),
        ("LOG_LEVEL", "info", None),
        ("NODE_ENV", "production", None),
        ("REGION", "eu-west-1", None),
        ("GUNICORN_CONF", "gunicorn.conf.py", None),
        ("PUBLIC_URL", "https://shop.example.com/", None),
        ("GREETING", "hello there, world", None),
        ("API_KEY", "x", "name"),
        ("DB_PASSWORD", "hunter2", "name"),
        ("SENTRY_DSN", "https://key@o1.ingest.sentry.io/2", "name"),
        ("CALLBACK", CALLBACK, "shape"),
        ("OPAQUE", OPAQUE, "shape"),
        ("STRIPE", "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "shape"),
        ("HEXY", "9f86d081884c7d659a2feaa0c55ad015", "shape"),
        ("SIGNED", "https://cdn.example.com/file?sig=abc", "shape"),
        ("TEMPLATE", "${{ secrets.X }}", "shape"),
    ],
)
def test_secret_reason(name: str, value: str, reason: str | None) -> None:
    assert secret_reason(name, value) == reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a" * 200, None),  # docs/operate.md: anything *over* 200 characters is a secret
        ("a" * 201, "shape"),
        ("Ab3Cd5Ef7Gh9Ij1", None),  # under 16 characters: a short word, not a key
        ("Ab3Cd5Ef7Gh9Ij1K", "shape"),  # a run of 16+ mixing cases and digits
        ("line\x1fbreak", "shape"),  # the last control character
        ("http://h.example/x", None),
        ("http://u:p@h.example/x", "shape"),
        ("http://h.example/x?k=1", "shape"),
    ],
)
def test_the_shape_rules_at_their_bounds(value: str, reason: str | None) -> None:
    assert secret_reason("PLAIN", value) == reason


def test_import_keeps_plain_values_as_literals_and_says_which(
    gateway: Gateway, tmp_path: Path
) -> None:
    skill_deploy(gateway, tmp_path / "app")
    manifest = tmp_path / "app" / "opendeploy.yaml"

    imported = odplan("import", "--project", "shop", "-o", str(manifest))

    assert imported.exit_code == 0, imported.output
    env = yaml.safe_load(manifest.read_text())["services"]["web"]["env"]
    assert env["PORT"] == "8000"
    assert env["LOG_LEVEL"] == "info"
    assert env["PUBLIC_URL"] == "https://shop.example.com/"
    assert env["API_KEY"] == "${{ secrets.API_KEY }}"
    assert env["SENTRY_DSN"] == "${{ secrets.SENTRY_DSN }}"
    assert env["OPAQUE"] == "${{ secrets.OPAQUE }}"
    assert env["CALLBACK"] == "${{ secrets.CALLBACK }}"
    assert "Written as literals" in imported.stderr
    assert "  service.web.env.LOG_LEVEL\n" in imported.stderr
    assert "  service.web.env.PORT\n" in imported.stderr
    assert "API_KEY  (service.web.env.API_KEY; the name looks secret)" in imported.stderr
    assert "OPAQUE  (service.web.env.OPAQUE; the value looks like a credential)" in (
        imported.stderr
    )
    for secret in (SECRET_CANARY, OPAQUE, CALLBACK, "o1.ingest"):
        assert secret not in manifest.read_text()
        assert secret not in imported.output

    secrets = {
        "API_KEY": SECRET_CANARY,
        "SENTRY_DSN": "https://key@o1.ingest.sentry.io/2",
        "OPAQUE": OPAQUE,
        "CALLBACK": CALLBACK,
    }
    planned = odplan("plan", "-f", str(manifest), "--detailed-exitcode", env=secrets)
    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.stdout


def test_import_into_a_missing_folder_is_a_clear_error(gateway: Gateway, tmp_path: Path) -> None:
    skill_deploy(gateway, tmp_path / "app")
    missing = tmp_path / "elsewhere" / "deep"

    imported = odplan("import", "--project", "shop", "-o", str(missing / "opendeploy.yaml"))

    assert imported.exit_code == 1
    assert f"the folder {missing} does not exist" in imported.stderr
    assert "mkdir -p" in imported.stderr
    assert "report this bug" not in imported.output
    assert not missing.exists()


def test_import_away_from_the_source_writes_and_notes_it(gateway: Gateway, tmp_path: Path) -> None:
    skill_deploy(gateway, tmp_path / "app")
    away = tmp_path / "manifests"
    away.mkdir()

    imported = odplan("import", "--project", "shop", "-o", str(away / "shop.yaml"))

    assert imported.exit_code == 0, imported.output
    assert "report this bug" not in imported.output
    assert (away / "shop.yaml").is_file()


def test_import_pins_an_active_region_and_leaves_an_inactive_one_auto(
    gateway: Gateway, tmp_path: Path
) -> None:
    skill = Skill(gateway)
    try:
        made = skill.first_deploy(write_app(tmp_path / "app"))
    finally:
        skill.close()
    manifest = tmp_path / "app" / "opendeploy.yaml"
    pinned = odplan("import", "--project", "shop", "-o", str(manifest))
    assert pinned.exit_code == 0, pinned.output
    region = yaml.safe_load(manifest.read_text())["project"].get("region")
    assert region, manifest.read_text()

    # The project's region is retired: pinning it would make every later plan fail its check.
    gateway.emulator.set_region_status(made.region_id, "inactive")
    manifest.unlink()
    auto = odplan("import", "--project", "shop", "-o", str(manifest))
    assert auto.exit_code == 0, auto.output
    assert "region" not in yaml.safe_load(manifest.read_text())["project"]
