"""What `dump_manifest` writes (`odplan import` shows it to people): the exact YAML text."""

from __future__ import annotations

from pathlib import Path

from opendeploy_plan.manifest import Manifest, dump_manifest, load_manifest_bytes

# A description whose 15th word ends at column 101 of its line: the first break is there.
_LONG = "xx " + " ".join(["abcde"] * 16) + " tail tail"


def _manifest(raw: dict[str, object]) -> Manifest:
    return Manifest.model_validate(raw)


def test_the_dump_is_block_style_in_model_order_without_defaults() -> None:
    manifest = _manifest(
        {
            "version": 1,
            "project": {"name": "shop"},
            "services": {
                "web": {
                    "type": "web",  # the default: left out
                    "port": 8080,
                    "after": ["worker"],
                    "env": {"ZED": "1", "ALPHA": "2"},
                },
                "worker": {"type": "worker", "replicas": 2},
            },
            "dependencies": {"db": {"type": "postgres"}},
        }
    )
    assert dump_manifest(manifest) == (
        "version: 1\n"
        "project:\n"
        "  name: shop\n"
        "dependencies:\n"
        "  db:\n"
        "    type: postgres\n"
        "services:\n"
        "  web:\n"
        "    port: 8080\n"
        "    after:\n"
        "    - worker\n"
        "    env:\n"
        "      ZED: '1'\n"
        "      ALPHA: '2'\n"
        "  worker:\n"
        "    type: worker\n"
        "    replicas: 2\n"
    )


def test_the_schema_modeline_comes_first_when_asked_for() -> None:
    manifest = _manifest({"version": 1, "project": {"name": "shop"}})
    assert dump_manifest(manifest, schema_url="schemas/opendeploy.schema.json") == (
        "# yaml-language-server: $schema=schemas/opendeploy.schema.json\n"
        "version: 1\nproject:\n  name: shop\n"
    )
    assert dump_manifest(manifest, schema_url="") == "version: 1\nproject:\n  name: shop\n"


def test_long_text_is_folded_at_100_columns() -> None:
    manifest = _manifest({"version": 1, "project": {"name": "shop", "description": _LONG}})
    text = dump_manifest(manifest)
    lines = text.splitlines()
    # PyYAML breaks at the first space past the width, so a width of 101 would go on.
    assert lines[3] == "  description: xx " + " ".join(["abcde"] * 14)
    assert len(lines[3]) == 101
    assert lines[4] == "    abcde abcde tail tail"
    assert _reloaded(text) == manifest


def test_non_ascii_text_is_written_as_is() -> None:
    manifest = _manifest({"version": 1, "project": {"name": "shop", "description": "café ☕"}})
    text = dump_manifest(manifest)
    assert "  description: café ☕\n" in text
    assert _reloaded(text) == manifest


def test_unicode_line_breaks_anywhere_make_the_whole_text_escaped() -> None:
    # PyYAML writes NEL / U+2028 / U+2029 raw when it may write Unicode, and readers fold them.
    for breaking in ("\x85", "\u2028", "\u2029"):
        manifest = _manifest(
            {
                "version": 1,
                "project": {"name": "shop", "description": "café"},
                "services": {"web": {"env": {"A": f"x{breaking}y"}}},
            }
        )
        text = dump_manifest(manifest)
        assert "café" not in text and breaking not in text
        assert text.isascii()
        assert _reloaded(text) == manifest
    listed = _manifest(
        {"version": 1, "project": {"name": "shop"}, "services": {"web": {"env_files": ["é\u2028"]}}}
    )
    assert dump_manifest(listed).isascii()


def _reloaded(text: str) -> Manifest:
    result = load_manifest_bytes(text.encode(), "opendeploy.yaml", Path("."), check_sources=False)
    assert result.manifest is not None, result.diagnostics
    return result.manifest
