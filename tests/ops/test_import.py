"""`odplan import`: a project the skill deployed (no odplan involved) becomes a manifest that
validates, names only the secrets to provide, and plans no changes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.ops.helpers import SECRET_CANARY, Gateway, Skill, SkillProject, odplan, write_app


@pytest.fixture
def skill_project(gateway: Gateway, tmp_path: Path) -> SkillProject:
    skill = Skill(gateway)
    try:
        return skill.first_deploy(write_app(tmp_path / "app"), extra_env={"EMPTY": ""})
    finally:
        skill.close()


def test_import_then_plan_reports_no_changes(
    gateway: Gateway, skill_project: SkillProject, tmp_path: Path
) -> None:
    manifest = tmp_path / "app" / "opendeploy.yaml"

    imported = odplan("import", "--project", "shop", "-o", str(manifest))

    assert imported.exit_code == 0, imported.output
    text = manifest.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    data = yaml.safe_load(text)
    assert data["project"]["name"] == "shop"
    (dep_key,) = data["dependencies"]
    assert data["dependencies"][dep_key] == {"type": "postgres"}
    web = data["services"]["web"]
    assert web["uses"] == [dep_key]
    # The dependency's variables come from `uses:`; everything else is a secret reference.
    assert web["env"] == {
        "API_KEY": "${{ secrets.API_KEY }}",
        "EMPTY": "",
        "PORT": "8000",  # neither name nor value looks secret: a literal
    }
    assert web["subdomain"] == "shop-app"
    assert web["port"] == 8000
    assert web["resources"] == {
        "cpu": {"request": "500m", "limit": "1"},
        "memory": {"request": "512Mi", "limit": "1Gi"},
    }
    assert "source" not in web  # the service builds from the archive root: "."
    assert "API_KEY  (service.web.env.API_KEY; the name looks secret)" in imported.stderr
    assert "  service.web.env.PORT\n" in imported.stderr

    validated = odplan("validate", "-f", str(manifest))
    assert validated.exit_code == 0, validated.output

    secrets = {"API_KEY": SECRET_CANARY, "PORT": "8000"}
    planned = odplan("plan", "-f", str(manifest), "--detailed-exitcode", env=secrets)

    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.stdout
    # The skill's deployment carries no stamp: noted, never redeployed.
    assert "has no odplan stamp" in planned.stdout
    for output in (text, imported.output, planned.output, *gateway.audit_lines()):
        assert SECRET_CANARY not in output


def test_unstamped_deployment_causes_no_churn_after_the_source_changes(
    gateway: Gateway, skill_project: SkillProject, tmp_path: Path
) -> None:
    manifest = tmp_path / "app" / "opendeploy.yaml"
    assert odplan("import", "--project", "shop", "-o", str(manifest)).exit_code == 0
    write_app(tmp_path / "app", version="2")  # new local source, never deployed

    planned = odplan(
        "plan",
        "-f",
        str(manifest),
        "--detailed-exitcode",
        env={"API_KEY": SECRET_CANARY, "PORT": "8000"},
    )

    assert planned.exit_code == 0, planned.output
    assert "not redeploying (use --redeploy to force)" in planned.stdout


def test_a_changed_secret_shows_as_a_pending_env_change(
    gateway: Gateway, skill_project: SkillProject, tmp_path: Path
) -> None:
    manifest = tmp_path / "app" / "opendeploy.yaml"
    assert odplan("import", "--project", "shop", "-o", str(manifest)).exit_code == 0

    planned = odplan(
        "plan",
        "-f",
        str(manifest),
        "--detailed-exitcode",
        env={"API_KEY": "rotated", "PORT": "8000"},
    )

    assert planned.exit_code == 2, planned.output
    assert "service.web.env" in planned.stdout
    assert SECRET_CANARY not in planned.output


def test_import_never_overwrites_without_force(
    gateway: Gateway, skill_project: SkillProject, tmp_path: Path
) -> None:
    manifest = tmp_path / "opendeploy.yaml"
    manifest.write_text("keep me\n")

    refused = odplan("import", "--project", "shop", "-o", str(manifest))

    assert refused.exit_code == 1
    assert "already exists" in refused.stderr
    assert manifest.read_text() == "keep me\n"
    forced = odplan("import", "--project", skill_project.project_id, "-o", str(manifest), "--force")
    assert forced.exit_code == 0, forced.output
    assert "project:\n  name: shop" in manifest.read_text()


def test_import_to_stdout_and_audit_line(gateway: Gateway, skill_project: SkillProject) -> None:
    result = odplan("import", "-o", "-")  # the only project: no --project needed

    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["services"]["web"]["port"] == 8000
    assert any('"step":"operate.import"' in line for line in gateway.audit_lines())


def test_import_of_an_unknown_project_names_the_known_ones(
    gateway: Gateway, skill_project: SkillProject, tmp_path: Path
) -> None:
    result = odplan("import", "--project", "nope", "-o", str(tmp_path / "x.yaml"))

    assert result.exit_code == 1
    assert "no project called 'nope'" in result.stderr
    assert "shop" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.yaml").exists()
