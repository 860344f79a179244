"""The source changing between planning and packaging stops apply before anything is uploaded,
and the error names what changed.

A stale folder listing cannot ship or stick either. Planning may reuse cached folder listings
(`.opendeploy/source-listing-cache.json`); the upload always walks the tree afresh. Here a
record is forged to hide a deployed file, as a file system whose folder timestamps never move
could leave it: the plan shows a phantom change, apply notices the difference at packaging,
uploads nothing, forgets the listings, and the next plan (from a fresh walk) is clean."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from opendeploy_plan.source import select_files
from opendeploy_plan.source._cache import CACHE_FOLDER
from opendeploy_plan.source._listing import LISTING_FILE
from tests.e2e.apply_support import Odplan, copy_example, describe, real_gateway


def test_a_stale_listing_is_caught_at_packaging_and_forgotten(tmp_path: Path) -> None:
    with real_gateway() as gateway:
        home = tmp_path / "home"
        home.mkdir()
        odplan = Odplan(gateway, home, copy_example("static-site", tmp_path / "app"))
        root = odplan.manifest.parent
        assert odplan.apply().returncode == 0

        select_files(root, use_cache=True, racy_window_ns=0)  # record every folder now
        listing = root / CACHE_FOLDER / LISTING_FILE
        data = json.loads(listing.read_text())
        data["entries"]["public/"][4].remove("app.js")  # the record hides a deployed file
        listing.write_text(json.dumps(data))

        phantom = odplan.plan("--detailed-exitcode")
        assert phantom.returncode == 2, describe(phantom)  # the stale record decides the plan

        caught = odplan.apply()
        assert caught.returncode == 1, describe(caught)
        assert "source changed between planning and packaging: public/app.js (added)" in (
            caught.stderr
        )
        assert not listing.exists()

        healed = odplan.plan("--detailed-exitcode")
        assert healed.returncode == 0, describe(healed)  # a fresh walk: nothing changed


def test_a_log_written_into_the_project_while_applying_is_named(tmp_path: Path) -> None:
    """`odplan apply > apply.log` inside the project folder: the log grows between planning and
    packaging, so it is part of the source that changed. Apply refuses, names it and says how
    to keep it out; with the log ignored, the same command deploys."""
    with real_gateway() as gateway:
        home = tmp_path / "home"
        home.mkdir()
        odplan = Odplan(gateway, home, copy_example("static-site", tmp_path / "app"))
        root = odplan.manifest.parent
        log = root / "apply.log"
        with log.open("w") as stdout:
            caught = subprocess.run(
                odplan.argv("apply", "--auto-approve"),
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
                env=odplan.env,
                timeout=120,
                check=False,
            )
        assert caught.returncode == 1, caught.stderr
        assert "source changed between planning and packaging: apply.log (changed)" in (
            caught.stderr
        )
        assert ".gitignore or .odplanignore" in caught.stderr

        (root / ".odplanignore").write_text("*.log\n")
        with log.open("w") as stdout:
            deployed = subprocess.run(
                odplan.argv("apply", "--auto-approve"),
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
                env=odplan.env,
                timeout=120,
                check=False,
            )
        assert deployed.returncode == 0, deployed.stderr
        assert "Live URL" in log.read_text()
