"""Editing only opendeploy.yaml never re-uploads or redeploys: a comment is no change at all,
and a resize is an in-place update (`PUT /v1/services/:id`), as the platform rules say."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.apply_support import Odplan, copy_example, describe, real_gateway


def test_manifest_only_edits_plan_no_upload_and_no_redeploy(tmp_path: Path) -> None:
    with real_gateway() as gateway:
        home = tmp_path / "home"
        home.mkdir()
        odplan = Odplan(gateway, home, copy_example("static-site", tmp_path / "app"))
        applied = odplan.apply()
        assert applied.returncode == 0, describe(applied)

        text = odplan.manifest.read_text()
        odplan.manifest.write_text(text + "\n# a reviewer's comment\n")
        assert odplan.plan("--detailed-exitcode").returncode == 0

        odplan.manifest.write_text(text.replace("limit: 128Mi", "limit: 256Mi"))
        resized = odplan.plan("--detailed-exitcode")
        assert resized.returncode == 2, describe(resized)
        assert "~ service.site\n" in resized.stdout
        assert "memory_limit" in resized.stdout
        assert "project.source" not in resized.stdout
        assert "service.site.deployment" not in resized.stdout

        applied = odplan.apply()
        assert applied.returncode == 0, describe(applied)
        assert odplan.plan("--detailed-exitcode").returncode == 0
