"""A bind that binds nothing is caught: when the parked upload expires before update-source runs,
the platform answers "already up to date" and keeps the project's previous source. Apply reads
back that the bound upload is this run's, uploads once more, and the live source is the new one
(found in review: the old files had been deployed under the new digest)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

from opendeploy_plan.gateway import GatewayClient
from tests.e2e.apply_support import Odplan, copy_example, describe, real_gateway


def uploads(odplan: Odplan) -> list[str]:
    """The temp paths of every upload-only odplan has logged, oldest first."""
    lines = [json.loads(line) for line in odplan.audit_text().splitlines() if line.strip()]
    return [e["temp_file_path"] for e in lines if e.get("step") == "deploy.upload_only"]


def test_an_upload_expired_before_binding_is_uploaded_again(tmp_path: Path) -> None:
    with real_gateway() as gateway:
        home = tmp_path / "home"
        home.mkdir()
        odplan = Odplan(gateway, home, copy_example("static-site", tmp_path / "app"))
        assert odplan.apply().returncode == 0
        page = odplan.manifest.parent / "public" / "index.html"
        page.write_text(page.read_text() + "<!-- release 2 -->\n")

        # Hold the next update-source for 1.5 s; meanwhile expire the upload it is about to bind.
        gateway.add_fault(
            kind="latency",
            method="POST",
            route="/api/v1/upload/update-source",
            latency_ms=1500,
            count=1,
        )
        expired: list[str] = []

        def expire_this_runs_first_upload() -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                seen = uploads(odplan)
                if len(seen) >= 2:
                    gateway.admin("POST", "/uploads/expire", {"temp_file_path": seen[1]})
                    expired.append(seen[1])
                    return
                time.sleep(0.05)

        watcher = threading.Thread(target=expire_this_runs_first_upload)
        watcher.start()
        applied = odplan.apply()
        watcher.join()
        assert applied.returncode == 0, describe(applied)
        assert expired, "the test did not expire the upload in time"
        assert "uploading again" in applied.stderr

        async def bound_page() -> str:
            async with GatewayClient(gateway.base_url, gateway.dashboard_token) as client:
                project = await client.find_project_by_name("static-site")
                assert project is not None
                return (Path(project.source_path) / "public" / "index.html").read_text()

        assert "release 2" in asyncio.run(bound_page())
        assert odplan.plan("--detailed-exitcode").returncode == 0
