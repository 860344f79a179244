"""The source changing between planning and packaging stops apply before anything is uploaded,
and the error names what changed.

A stale folder listing cannot ship or stick either. `odplan plan` may reuse cached folder
listings (`.opendeploy/source-listing-cache.json`); `odplan apply` plans from a fresh walk and
records it anew, and archives never read the cache. Here records are forged as a file system
whose folder timestamps never move could leave them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from opendeploy_plan.source import select_files
from opendeploy_plan.source._cache import CACHE_FOLDER
from opendeploy_plan.source._listing import LISTING_FILE
from tests.e2e.apply_support import describe, example_odplan, real_gateway


def _forge(root: Path, change: Callable[[list[str]], None]) -> None:
    """Record every folder now, then edit the `public/` record's file names."""
    select_files(root, listings="reuse", racy_window_ns=0)
    listing = root / CACHE_FOLDER / LISTING_FILE
    data = json.loads(listing.read_text())
    change(data["entries"]["public/"][4])
    listing.write_text(json.dumps(data))


def test_a_stale_listing_misleads_plan_at_most_until_the_next_apply(tmp_path: Path) -> None:
    with real_gateway() as gateway:
        odplan = example_odplan(gateway, tmp_path, "static-site")
        root = odplan.manifest.parent
        assert odplan.apply().returncode == 0

        # A record that hides a deployed file: plan shows a phantom change...
        _forge(root, lambda names: names.remove("app.js"))
        phantom = odplan.plan("--detailed-exitcode")
        assert phantom.returncode == 2, describe(phantom)
        # ...apply walks afresh, finds nothing to do, and rewrites the cache.
        applied = odplan.apply()
        assert applied.returncode == 0, describe(applied)
        assert "No changes" in applied.stdout
        assert odplan.plan("--detailed-exitcode").returncode == 0

        # A record that hides a new file: plan misses it, apply deploys it anyway.
        (root / "public" / "new.js").write_text("console.log('new')\n")
        _forge(root, lambda names: names.remove("new.js"))
        missed = odplan.plan("--detailed-exitcode")
        assert missed.returncode == 0, describe(missed)
        deployed = odplan.apply()
        assert deployed.returncode == 0, describe(deployed)
        assert "project.source" in deployed.stdout  # uploaded: the fresh walk saw new.js
        assert odplan.plan("--detailed-exitcode").returncode == 0


def test_a_log_written_into_the_project_while_applying_is_named(tmp_path: Path) -> None:
    """`odplan apply > apply.log` inside the project folder: the log grows between planning and
    packaging, so it is part of the source that changed. Apply refuses, names it and says how
    to keep it out; with the log ignored, the same command deploys."""
    with real_gateway() as gateway:
        odplan = example_odplan(gateway, tmp_path, "static-site")
        root = odplan.manifest.parent
        log = root / "apply.log"

        def apply_into_log() -> subprocess.CompletedProcess[str]:
            with log.open("w") as stdout:
                return subprocess.run(
                    odplan.argv("apply", "--auto-approve"),
                    stdout=stdout,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=odplan.env,
                    timeout=120,
                    check=False,
                )

        caught = apply_into_log()
        assert caught.returncode == 1, caught.stderr
        assert "source changed between planning and packaging: apply.log (changed)" in (
            caught.stderr
        )
        assert ".gitignore or .odplanignore" in caught.stderr

        (root / ".odplanignore").write_text("*.log\n")
        deployed = apply_into_log()
        assert deployed.returncode == 0, deployed.stderr
        assert "Live URL" in log.read_text()
