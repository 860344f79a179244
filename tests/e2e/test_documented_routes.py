"""Issue 14: the request log of one full apply (and of the commands after it) holds only routes
and URL forms the documents name, except the undocumented ones docs/emulator.md lists with
odplan's fallback. The list of documented routes (`documented_routes.py`) is checked against
the documents themselves, phrase by phrase."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.e2e.apply_support import describe, example_odplan, real_gateway
from tests.e2e.documented_routes import (
    DOCUMENTED,
    SKILL,
    UNDOCUMENTED,
    Route,
    undocumented_route,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.skipif(not SKILL.is_dir(), reason=f"the seed's skill is not at {SKILL}")
@pytest.mark.parametrize("route", DOCUMENTED, ids=lambda r: f"{r.method} {r.template}")
def test_each_listed_route_is_named_by_the_documents(route: Route) -> None:
    text = _flat((SKILL / route.file).read_text())
    assert _flat(route.phrase) in text, f"{route.file} no longer says {route.phrase!r}"


def _profile_table_rows() -> dict[str, list[str]]:
    """docs/emulator.md's profile table: first cell → the row's cells."""
    rows = {}
    for line in (REPO_ROOT / "docs" / "emulator.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 5:
            rows[cells[0]] = cells
    return rows


@pytest.mark.parametrize("key", sorted(UNDOCUMENTED))
def test_each_undocumented_route_has_its_fallback_in_docs_emulator(key: tuple[str, str]) -> None:
    rows = _profile_table_rows()
    first = UNDOCUMENTED[key]
    assert first in rows, f"docs/emulator.md has no row for {first}"
    _, source, _default, _documented, fallback = rows[first]
    assert source.startswith("ours"), rows[first]
    assert fallback and fallback != "—", f"the row for {first} says nothing of odplan's fallback"


def test_route_templates_match_the_exact_url_form() -> None:
    services = Route("GET", "/v1/projects/:id/services/", "x", "y")
    assert services.matches("GET", "/v1/projects/abc/services/")
    assert not services.matches("GET", "/v1/projects/abc/services")
    assert not services.matches("POST", "/v1/projects/abc/services/")
    assert not services.matches("GET", "/v1/projects/a/b/services/")


def _unlisted(requests: list[tuple[str, str]]) -> list[str]:
    """The requests (under /api) that match neither a documented nor a listed route."""
    known = [*DOCUMENTED, *(undocumented_route(*key) for key in UNDOCUMENTED)]
    found = []
    for method, raw in requests:
        path = raw.split("?", 1)[0]
        if not path.startswith("/api/"):
            continue  # the emulator's admin API, used by the test itself
        path = path.removeprefix("/api")
        verb = "GET" if method == "WEBSOCKET" else method
        if not any(route.matches(verb, path) for route in known):
            found.append(f"{method} {raw}")
    return found


@pytest.mark.parametrize("profile", ["default", "documented"])
def test_a_full_apply_and_the_day_two_commands_use_only_listed_routes(
    profile: str, tmp_path: Path
) -> None:
    with real_gateway(profile=profile, auto_domain_delay_seconds=0.0) as gateway:
        odplan = example_odplan(gateway, tmp_path, "fastapi-postgres-redis")
        runs = [odplan.apply()]
        runs.append(odplan.plan("--detailed-exitcode"))
        # A change of env and source: env replace, upload, bind, redeploy.
        document = yaml.safe_load(odplan.manifest.read_text())
        for service in document["services"].values():
            service.setdefault("env", {})["EDITED"] = "1"
        odplan.manifest.write_text(yaml.safe_dump(document, sort_keys=False))
        (odplan.manifest.parent / "edited.txt").write_text("a new source digest\n")
        runs.append(odplan.apply())
        runs.append(odplan.run("status"))
        for run in runs:
            assert run.returncode == 0, describe(run)

        unlisted = _unlisted(gateway.requests)

        assert unlisted == [], "requests in no document and not in docs/emulator.md:\n" + (
            "\n".join(sorted(set(unlisted)))
        )
        # The log is not empty by accident: apply really went through the gateway.
        assert any(
            m == "POST" and p.startswith("/api/v1/deployments/") for m, p in gateway.requests
        )
