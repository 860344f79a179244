"""The local platform's record and links. The record (`~/.opendeploy/local/platform.json`, 0600)
keeps the admin API's token for `odplan gateway account`; what `odplan gateway status --json`
shows of it never does. With a platform running, dashboard and bind pages answer on the
platform's own port and apps on its router (`web.localhost:8788`); without one (the in-process
gateway) every link keeps the platform's name and says it is simulated. Links of any other
gateway are left alone."""

from __future__ import annotations

import json
from pathlib import Path

from opendeploy_plan.engine.local_gateway import SIMULATED_NOTE, LocalLinks, local_links
from opendeploy_plan.engine.local_platform import PlatformRecord
from opendeploy_plan.gateway import LOCAL_BASE_URL

TOKEN = "od_admin_canary_5f1e9c"
RECORD = PlatformRecord(
    pid=1,
    pgid=1,
    api_url="http://127.0.0.1:8787/api",
    router_port=8788,
    runtime="local",
    db_path="/tmp/x.db",
    started_at=1.5,
    admin_token=TOKEN,
)
PAGE = "http://odplan.local/projects/p-1"


def test_pages_answer_on_the_platforms_port() -> None:
    links = LocalLinks(RECORD)
    assert links.page(PAGE) == "http://127.0.0.1:8787/projects/p-1"
    assert links.page("http://odplan.local/guest/g?h=x") == "http://127.0.0.1:8787/guest/g?h=x"
    assert links.page("https://dashboard.example/projects/p") == (
        "https://dashboard.example/projects/p"
    )
    assert links.app("web.opendeploy.run") == "http://web.localhost:8788"
    assert links.app("web.dev.opendeploy.run") == "http://web.dev.localhost:8788"


def test_without_a_platform_links_say_they_are_simulated() -> None:
    links = LocalLinks(None)
    assert links.page(PAGE) == f"{PAGE} {SIMULATED_NOTE}"
    assert links.app("web.opendeploy.run") == (
        "https://web.opendeploy.run (simulated locally, not served)"
    )


def test_only_the_local_gateway_has_local_links(tmp_path: Path) -> None:
    assert local_links("https://dashboard.example/api", {}) is None
    found = local_links(LOCAL_BASE_URL + "/", {"HOME": str(tmp_path)})
    assert isinstance(found, LocalLinks) and found.record is None  # no platform runs there


def test_the_shown_record_has_everything_but_the_admin_token() -> None:
    shown = RECORD.shown()
    assert shown == {
        "pid": 1,
        "pgid": 1,
        "api_url": "http://127.0.0.1:8787/api",
        "router_port": 8788,
        "runtime": "local",
        "db_path": "/tmp/x.db",
        "started_at": 1.5,
    }
    assert TOKEN not in json.dumps(shown) and TOKEN not in repr(RECORD)
    assert RECORD.root_url == "http://127.0.0.1:8787"
