"""The local platform's record (`~/.opendeploy/local/platform.json`, 0600) keeps the admin API's
token for `odplan gateway account`; what `odplan gateway status --json` shows of it never does."""

from __future__ import annotations

import json

from opendeploy_plan.engine.local_platform import PlatformRecord

TOKEN = "od_admin_canary_5f1e9c"


def test_the_shown_record_has_everything_but_the_admin_token() -> None:
    record = PlatformRecord(
        pid=10,
        pgid=10,
        api_url="http://127.0.0.1:8787/api",
        router_port=8788,
        runtime="local",
        db_path="/tmp/x.db",
        started_at=1.5,
        admin_token=TOKEN,
    )
    shown = record.shown()
    assert shown == {
        "pid": 10,
        "pgid": 10,
        "api_url": "http://127.0.0.1:8787/api",
        "router_port": 8788,
        "runtime": "local",
        "db_path": "/tmp/x.db",
        "started_at": 1.5,
    }
    assert TOKEN not in json.dumps(shown) and TOKEN not in repr(record)
    assert record.root_url == "http://127.0.0.1:8787"
