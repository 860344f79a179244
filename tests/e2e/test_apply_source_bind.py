"""A bind that binds nothing is caught: when the parked upload expires before update-source runs,
the platform answers "already up to date" and keeps the project's previous source. Apply reads
back that the bound upload is this run's, uploads once more, and the live source is the new one
(found in review: the old files had been deployed under the new digest). Against both profiles:
the documented one copies the upload (so `original_file_path` is no proof, issue 14 item 2)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.e2e.apply_support import (
    apply_while_the_upload_expires,
    describe,
    example_odplan,
    real_gateway,
    uploads,
)


def test_an_upload_expired_before_binding_is_uploaded_again(profile: str, tmp_path: Path) -> None:
    with real_gateway(profile=profile) as gateway:
        odplan = example_odplan(gateway, tmp_path, "static-site")
        assert odplan.apply().returncode == 0
        page = odplan.manifest.parent / "public" / "index.html"
        page.write_text(page.read_text() + "<!-- release 2 -->\n")

        applied, expired = apply_while_the_upload_expires(odplan)

        assert applied.returncode == 0, describe(applied)
        assert expired, "the test did not expire the upload in time"
        assert "uploading again" in applied.stderr
        assert len(uploads(odplan)) == 3  # one bind per apply, plus the one retry: never more

        async def bound_page() -> str:
            async with odplan.client() as client:
                project = await client.find_project_by_name("static-site")
                assert project is not None
                return (Path(project.source_path) / "public" / "index.html").read_text()

        assert "release 2" in asyncio.run(bound_page())
        assert odplan.plan("--detailed-exitcode").returncode == 0
