"""Rules that relate values to each other: overlay names, `after`, `uses`, references,
subdomains, source folders and unused dependencies, with their exact messages and positions."""

from __future__ import annotations

from pathlib import Path

from opendeploy_plan.manifest import load_manifest_bytes

BASE = "version: 1\nproject:\n  name: shop\n"


def long_forms(text: str, tmp_path: Path, *, check_sources: bool = False) -> list[str]:
    """Every diagnostic in its long form (position, path, summary and indented detail)."""
    result = load_manifest_bytes(
        (BASE + text).encode(), "m.yaml", tmp_path, check_sources=check_sources
    )
    return [d.format_long() for d in result.diagnostics]


# --- overlays --------------------------------------------------------------------------------


def test_every_unknown_name_in_an_overlay_is_reported_with_the_known_names(
    tmp_path: Path,
) -> None:
    text = (
        "services:\n  web: {}\n  api: {}\n"
        "environments:\n  staging:\n    services:\n"
        "      web: {port: 80}\n"  # known: must not stop the check of the names after it
        "      zzz: {}\n"
        "      wbe: {}\n"
    )
    assert long_forms(text, tmp_path) == [
        "m.yaml:11:7: error: environments.staging.services.zzz: unknown service 'zzz'; "
        "the base manifest's services: web, api\n"
        "    An overlay changes services of the base manifest; declare the service under the "
        "top-level `services` first.",
        "m.yaml:12:7: error: environments.staging.services.wbe: unknown service 'wbe'; "
        "did you mean 'web'?\n"
        "    An overlay changes services of the base manifest; declare the service under the "
        "top-level `services` first.",
    ]


def test_an_overlay_dependency_unknown_to_a_base_without_dependencies(tmp_path: Path) -> None:
    text = (
        "services:\n  web: {}\n"
        "environments:\n  staging:\n    dependencies:\n      cache: {type: redis}\n"
    )
    assert long_forms(text, tmp_path)[0] == (
        "m.yaml:9:7: error: environments.staging.dependencies.cache: unknown dependency "
        "'cache'; the base manifest's dependencies: none\n"
        "    An overlay changes dependencies of the base manifest; declare the dependency "
        "under the top-level `dependencies` first."
    )
