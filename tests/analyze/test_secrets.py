"""Real .env values never reach the manifest, the JSON analysis or the summary."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from opendeploy_plan.analyze import analysis_to_dict, analyze, render_manifest
from opendeploy_plan.cli import main

CANARY = "canary-7f3a9c-do-not-leak"


def _plant(root: Path) -> None:
    (root / ".env").write_text(
        f"STRIPE_SECRET_KEY={CANARY}-stripe\n"
        f"PUBLIC_HOMEPAGE=https://{CANARY}.example\n"
        f"DATABASE_URL=postgres://u:{CANARY}@db/app\n"
        f"FEATURE_FLAGS={CANARY}-flags\n"
    )
    (root / ".env.production").write_text(f"ANALYTICS_ID={CANARY}-ga\n")


def test_env_values_never_appear_anywhere(fixture_copy: Callable[[str], Path]) -> None:
    root = fixture_copy("nextjs")
    _plant(root)
    analysis = analyze(root, environment="production")
    manifest = render_manifest(analysis, environment="production")
    assert CANARY not in manifest
    assert CANARY not in json.dumps(analysis_to_dict(analysis))
    # Key names are used: a secret-looking one becomes a secret reference, a plain one a
    # reference resolved from the env file at plan time.
    assert 'STRIPE_SECRET_KEY: "${{ secrets.STRIPE_SECRET_KEY }}"' in manifest
    assert 'FEATURE_FLAGS: "${{ secrets.FEATURE_FLAGS }}"' in manifest
    assert 'ANALYTICS_ID: "${{ secrets.ANALYTICS_ID }}"' in manifest

    runner = CliRunner()
    for args in (["init", str(root), "-e", "production"], ["init", str(root), "--json", "--force"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        assert CANARY not in result.output
    written = (root / "opendeploy.yaml").read_text()
    assert CANARY not in written
    assert ".env" in runner.invoke(main, ["init", str(root), "--force"]).output


def test_lower_case_secret_names_are_secrets_too(fixture_copy: Callable[[str], Path]) -> None:
    # An example file's value is a default init may write, unless the name looks secret: the
    # match ignores case (`db_password` is as secret as `DB_PASSWORD`).
    root = fixture_copy("nextjs")
    (root / ".env.example").write_text(f"stripe_secret_key={CANARY}-example\nsite_title=Shop\n")
    (root / ".env").write_text(f"db_password={CANARY}-real\n")
    manifest = render_manifest(analyze(root, environment="production"), environment="production")
    assert CANARY not in manifest
    assert 'stripe_secret_key: "${{ secrets.stripe_secret_key }}"' in manifest
    assert 'db_password: "${{ secrets.db_password }}"' in manifest
    # A plain name keeps its example default.
    assert 'site_title: "Shop"  # default from .env.example' in manifest
