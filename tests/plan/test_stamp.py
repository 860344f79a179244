"""The deployment stamp: written into a deployment's description, read back by the planner."""

from __future__ import annotations

import pytest

from opendeploy_plan.plan import Stamp, config_digest, format_stamp, parse_stamp, same_digest
from opendeploy_plan.plan.stamp import DESCRIPTION_MAX_CHARS


def test_a_stamp_round_trips_through_its_description() -> None:
    stamp = Stamp("sha256:" + "a" * 64, "sha256:" + "b" * 64, "run-42")
    text = format_stamp(stamp, "odplan deploy of web")
    assert text.startswith("odplan deploy of web [odplan:v2 p=sha256:aaa")
    read = parse_stamp(text)
    assert read is not None and read.run_id == "run-42"
    assert same_digest(read.project_digest, stamp.project_digest)
    assert same_digest(read.service_digest, stamp.service_digest)
    assert not same_digest(read.service_digest, stamp.project_digest)


def test_a_stamp_is_compact_even_with_a_long_service_name() -> None:
    stamp = Stamp("sha256:" + "a" * 64, "sha256:" + "b" * 64, "0123456789ab", "c1:" + "f" * 16)
    assert len(format_stamp(stamp, "odplan deploy of web")) < 150
    text = format_stamp(stamp, "odplan deploy of " + "w" * 300)
    assert len(text) <= DESCRIPTION_MAX_CHARS
    assert parse_stamp(text) == parse_stamp(format_stamp(stamp))


def test_a_cut_stamp_is_unknown_not_a_wrong_digest() -> None:
    v1 = "x [odplan:v1 project=sha256:" + "a" * 64 + " service=sha256:" + "b" * 64
    assert parse_stamp(v1[:120]) is None
    text = format_stamp(Stamp("sha256:" + "a" * 64, "sha256:" + "b" * 64, "run-42"))
    assert parse_stamp(text[:-1]) is None
    assert parse_stamp(text[:-8]) is None


def test_a_v1_stamp_with_full_digests_is_still_read() -> None:
    full = "sha256:" + "a" * 64
    read = parse_stamp(f"x [odplan:v1 project={full} service=sha256:2 run=r config=c1:9]")
    assert read == Stamp(full, "sha256:2", "r", "c1:9")
    assert same_digest(read.project_digest, full)


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
