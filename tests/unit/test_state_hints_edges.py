"""The hint file (`.opendeploy/dependencies.json`) read and written on disk: a file edited by
hand into the wrong shape (a list, a string where a mapping belongs, an intent without a type
or with a non-text id) is read as "no hint" rather than crashing, and writing over such a file
replaces only the broken level."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opendeploy_plan.state.hints import (
    HINT_FILE,
    read_dependency_hints,
    read_pending_creates,
    record_dependency_hint,
    unhanded_dependencies,
)


def _write(root: Path, data: object) -> None:
    path = root / HINT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "data",
    [
        ["not", "a", "mapping"],
        {"shop": ["production"]},
        {"shop": {"production": "db"}},
    ],
)
def test_wrong_shapes_read_as_no_hints(tmp_path: Path, data: object) -> None:
    _write(tmp_path, data)
    assert read_dependency_hints(tmp_path, "shop", "production") == {}
    assert read_pending_creates(tmp_path, "shop", "production") == {}
    assert unhanded_dependencies(tmp_path, "shop", "production") == {}


def test_intents_without_a_text_type_are_not_pending_and_odd_ids_are_not_unhanded(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "shop": {
                "production": {
                    "db": {"since": "2026-01-01T00:00:00+00:00"},
                    "cache": {"creating": 5},
                    "queue": {"creating": "valkey", "since": "t", "id": 42},
                }
            }
        },
    )
    pending = read_pending_creates(tmp_path, "shop", "production")
    assert set(pending) == {"queue"}
    assert pending["queue"].id is None and pending["queue"].type == "valkey"
    assert unhanded_dependencies(tmp_path, "shop", "production") == {}


@pytest.mark.parametrize(
    "data",
    [{"shop": "broken"}, {"shop": {"production": ["broken"]}}],
)
def test_recording_over_a_broken_level_replaces_it(tmp_path: Path, data: object) -> None:
    _write(tmp_path, {**data, "other": {"production": {"db": "d9"}}})  # type: ignore[dict-item]
    assert record_dependency_hint(tmp_path, "shop", "production", "db", "d1")
    assert read_dependency_hints(tmp_path, "shop", "production") == {"d1": "db"}
    assert read_dependency_hints(tmp_path, "other", "production") == {"d9": "db"}


def test_the_file_is_written_with_sorted_keys(tmp_path: Path) -> None:
    record_dependency_hint(tmp_path, "shop", "production", "zeta", "d2")
    record_dependency_hint(tmp_path, "shop", "production", "alpha", "d1")
    text = (tmp_path / HINT_FILE).read_text()
    assert text.index('"alpha"') < text.index('"zeta"')
    assert text.endswith("}\n")
