"""The deployment stamp: written into a deployment's description, read back by the planner."""

from __future__ import annotations

import pytest

from opendeploy_plan.plan import Stamp, config_digest, format_stamp, parse_stamp


def test_a_stamp_round_trips_through_its_description() -> None:
    stamp = Stamp("sha256:" + "a" * 64, "sha256:" + "b" * 64, "run-42")
    text = format_stamp(stamp, "odplan deploy of web")
    assert text.startswith("odplan deploy of web [odplan:v1 project=sha256:aaa")
    assert parse_stamp(text) == stamp


def test_the_config_digest_round_trips_and_is_keyed_by_service() -> None:
    digest = config_digest({"A": "1"}, {"B": "2"}, "svc-1")
    assert digest.startswith("c1:") and len(digest) == 19
    assert digest != config_digest({"A": "1"}, {"B": "2"}, "svc-2")
    assert digest != config_digest({"A": "2"}, {"B": "2"}, "svc-1")
    assert digest == config_digest({"A": "1"}, {"B": "2"}, "svc-1")
    stamp = Stamp("sha256:1", "sha256:2", "r", digest)
    assert parse_stamp(format_stamp(stamp)) == stamp


def test_the_run_id_is_optional() -> None:
    text = format_stamp(Stamp("sha256:1", "sha256:2"))
    assert parse_stamp(text) == Stamp("sha256:1", "sha256:2", None)


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    text = "deploy [odplan:v1 project=sha256:1 service=sha256:2 run=r future=x]"
    assert parse_stamp(text) == Stamp("sha256:1", "sha256:2", "r")


@pytest.mark.parametrize(
    "description",
    [
        None,
        "",
        "Deployed from dashboard",
        "odplan:v2 project=sha256:1 service=sha256:2",
        "[odplan:v1 project=sha256:1]",
        "xodplan:v1 project=sha256:1 service=sha256:2",
    ],
)
def test_descriptions_without_a_complete_stamp_parse_to_none(description: str | None) -> None:
    assert parse_stamp(description) is None


def test_values_that_would_break_the_format_are_refused() -> None:
    with pytest.raises(ValueError, match="spaces"):
        format_stamp(Stamp("sha256:1 2", "sha256:2"))
    with pytest.raises(ValueError):
        format_stamp(Stamp("", "sha256:2"))
